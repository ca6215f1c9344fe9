//! Starts folio on a random port with its own database and Redis key prefix,
//! and drives it over HTTP as a browser would.

use folio::config::Settings;
use folio::startup::Application;
use reqwest::Response;
use secrecy::SecretString;
use sqlx::{AnyConnection, Connection, Executor};
use std::time::Duration;

mod client;
mod proxy;
mod redis_server;
mod rows;

pub use client::{Admin, browser, csrf_in, submit_login};
pub use proxy::Proxy;
pub use redis_server::PrivateRedis;
pub use rows::{PostRow, retitle_in};

pub const ADMIN_USER: &str = "editor";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per database.
#[macro_export]
macro_rules! both_databases {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

pub fn shared_redis_url() -> String {
    std::env::var("FOLIO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// The server's URL without a database; scripts/test creates this role.
fn postgres_base() -> String {
    std::env::var("FOLIO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://folio_test:folio_test@127.0.0.1:5432".to_string())
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A fresh, empty database of the given kind.
pub async fn fresh_database(backend: Backend) -> String {
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("folio-test-{}.db", unique()));
            format!("sqlite://{}?mode=rwc", path.display())
        }
        Backend::Postgres => {
            let name = format!("folio_test_{}", unique());
            let mut conn = AnyConnection::connect(&format!("{}/folio_test", postgres_base()))
                .await
                .expect("PostgreSQL is reachable");
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .await
                .expect("can create a database");
            format!("{}/{name}", postgres_base())
        }
    }
}

#[derive(Clone)]
pub struct Options {
    pub database_url: String,
    pub redis_url: String,
    pub prefix: String,
    pub redis_timeout_ms: u64,
    pub invalidation_timeout_ms: u64,
    pub render_delay_ms: u64,
    /// Re-warm stale pages after a write (the default, as in production);
    /// tests of exactly which pages a write removes turn it off to see MISSes.
    pub rewarm: bool,
    /// `FOLIO_EDGE_PURGE`.
    pub edge_purge: Option<String>,
}

impl Options {
    pub async fn new(backend: Backend) -> Self {
        Options {
            database_url: fresh_database(backend).await,
            redis_url: shared_redis_url(),
            prefix: format!("test-{}:", unique()),
            redis_timeout_ms: 250,
            invalidation_timeout_ms: 1000,
            render_delay_ms: 0,
            rewarm: true,
            edge_purge: None,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub prefix: String,
    pub redis_url: String,
    pub app_cache: folio::cache::PageCache,
    pub db: folio::db::Db,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_with(Options::new(backend).await).await
}

/// An instance that does not re-warm, to observe which pages a write removed.
pub async fn spawn_without_rewarm(backend: Backend) -> TestApp {
    let mut options = Options::new(backend).await;
    options.rewarm = false;
    spawn_with(options).await
}

/// Two instances on one database, one Redis and one prefix, as in production.
pub async fn spawn_pair(options: Options) -> (TestApp, TestApp) {
    let first = spawn_with(options.clone()).await;
    (first, spawn_with(options).await)
}

pub async fn spawn_with(options: Options) -> TestApp {
    let mut settings = Settings::from_env_and_defaults();
    settings.bind = "127.0.0.1:0".to_string();
    settings.database_url = options.database_url.clone();
    settings.redis_url = options.redis_url.clone();
    settings.cache_prefix = options.prefix.clone();
    settings.base_url = Some("https://blog.example.com".to_string());
    settings.session_key = Some(SecretString::from("k".repeat(64)));
    settings.admin_username = Some(ADMIN_USER.to_string());
    settings.admin_password = Some(SecretString::from(ADMIN_PASSWORD));
    settings.redis_timeout_ms = options.redis_timeout_ms;
    settings.invalidation_timeout_ms = options.invalidation_timeout_ms;
    settings.render_delay_ms = options.render_delay_ms;
    settings.edge_purge = options.edge_purge.clone();
    settings.rewarm = if options.rewarm { "on" } else { "off" }.to_string();
    settings.workers = Some(2);
    let app = Application::build(settings).await.expect("folio starts");
    let port = app.port();
    let app_cache = app.cache();
    let db = app.db();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://localhost:{port}"),
        prefix: options.prefix,
        redis_url: options.redis_url,
        app_cache,
        db,
    }
}

/// The number right after `marker` in `body` (`Stress v12` gives 12): how
/// the stress tests read which write a page shows.
pub fn number_after(body: &str, marker: &str) -> Option<u64> {
    let start = body.find(marker)? + marker.len();
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .ok()
}

/// The slug a create or edit redirected to.
pub fn slug_of(response: &Response) -> String {
    response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/posts/")
        .to_string()
}

pub fn assert_redirect_to(response: &Response, location: &str) {
    assert_eq!(
        response.status().as_u16(),
        303,
        "expected a 303 to {location}"
    );
    assert_eq!(response.headers()["location"], location);
}

/// A page as an anonymous visitor got it.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    /// The `x-cache` header (`HIT`, `MISS`, …), empty when absent.
    pub cache: String,
    pub body: String,
}

pub fn x_cache(response: &Response) -> String {
    response
        .headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// GET as a new anonymous visitor.
    pub async fn get(&self, path: &str) -> Response {
        browser()
            .get(self.url(path))
            .send()
            .await
            .expect("request succeeds")
    }

    /// GET as a new anonymous visitor, read whole.
    pub async fn fetch(&self, path: &str) -> Fetched {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        let cache = x_cache(&r);
        Fetched {
            status,
            cache,
            body: r.text().await.unwrap(),
        }
    }

    /// Does the page's key exist in Redis?
    pub async fn cached(&self, path: &str) -> bool {
        let mut conn = self.redis().await;
        redis::cmd("EXISTS")
            .arg(format!("{}view/{path}", self.prefix))
            .query_async::<i64>(&mut conn)
            .await
            .unwrap()
            == 1
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis_url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Waits until this instance uses the cache again (after a fault).
    pub async fn wait_until_cache_in_use(&self) {
        for _ in 0..100 {
            if self.app_cache.usable() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the cache did not come back");
    }
}
