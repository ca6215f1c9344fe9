//! folio in process, as tests/api starts it: a fresh SQLite file in the temp
//! dir, a Redis key prefix of its own, the admin from settings.

use folio::config::Settings;
use folio::posts::{self, PostInput};
use folio::startup::Application;
use secrecy::SecretString;

pub const ADMIN_USER: &str = "editor";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

pub struct Folio {
    /// `http://127.0.0.1:{port}`
    pub base: String,
    db: folio::db::Db,
    cache: folio::cache::PageCache,
    database_file: std::path::PathBuf,
}

impl Folio {
    pub async fn start() -> Self {
        sqlx::any::install_default_drivers();
        let unique = uuid::Uuid::new_v4().simple().to_string();
        // The folio-test- prefix is what CI's cleanup removes.
        let database_file = std::env::temp_dir().join(format!("folio-test-browser-{unique}.db"));
        // The port is chosen first so the base URL (canonical links) is right.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let mut settings = Settings::from_env_and_defaults();
        settings.bind = format!("127.0.0.1:{port}");
        settings.database_url = format!("sqlite://{}?mode=rwc", database_file.display());
        settings.redis_url = std::env::var("FOLIO_TEST_REDIS_URL")
            .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
        settings.cache_prefix = format!("test-{unique}:");
        settings.base_url = Some(base.clone());
        settings.session_key = Some(SecretString::from("k".repeat(64)));
        settings.admin_username = Some(ADMIN_USER.to_string());
        settings.admin_password = Some(SecretString::from(ADMIN_PASSWORD));
        settings.workers = Some(2);
        let app = Application::build(settings).await.expect("folio starts");
        let (db, cache) = (app.db(), app.cache());
        tokio::spawn(app.run_until_stopped());
        Folio {
            base,
            db,
            cache,
            database_file,
        }
    }

    /// `count` published posts with `folio seed`'s realistic bodies (headings,
    /// lists, a Rust block), through the library's own write path.
    pub async fn seed(&self, count: i64) -> Vec<String> {
        let mut titles = Vec::new();
        for i in 0..count {
            let (title, body) = folio::seed::sample(i);
            let input = PostInput {
                title: title.clone(),
                body,
                published: true,
                tags: folio::seed::sample_tags(i).join(", "),
                ..Default::default()
            };
            let valid = posts::validate(&input).expect("a sample post is valid");
            posts::create(&self.db, &self.cache, valid)
                .await
                .expect("the post is saved");
            titles.push(title);
        }
        titles
    }
}

impl Drop for Folio {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.database_file.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}
