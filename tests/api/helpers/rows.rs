//! What tests read from (or, to stage a crash, write to) folio's database
//! directly, named by what it means rather than spelled as SQL in each test.

use super::TestApp;

/// A post's row as the forms must leave it.
#[derive(Debug, PartialEq, sqlx::FromRow)]
pub struct PostRow {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub body: String,
    pub preview_token: Option<String>,
}

impl TestApp {
    pub async fn post_id(&self, slug: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM posts WHERE slug = $1")
            .bind(slug)
            .fetch_one(&self.db)
            .await
            .expect("post exists")
    }

    /// Every post, by id.
    pub async fn post_rows(&self) -> Vec<PostRow> {
        sqlx::query_as("SELECT id, title, slug, body, preview_token FROM posts ORDER BY id")
            .fetch_all(&self.db)
            .await
            .unwrap()
    }

    pub async fn post_count(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM posts").await
    }

    /// How many posts with this slug are live (0 or 1).
    pub async fn live_count(&self, slug: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE live = 1 AND slug = $1")
            .bind(slug)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// The site settings, but the session key.
    pub async fn settings_rows(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT name, value FROM settings WHERE name <> 'session_key' ORDER BY name")
            .fetch_all(&self.db)
            .await
            .unwrap()
    }

    pub async fn session_count(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM sessions").await
    }

    /// The number of the last write.
    pub async fn write_seq(&self) -> i64 {
        self.count("SELECT seq FROM write_lock WHERE id = 1").await
    }

    /// Invalidations recorded but not yet confirmed by Redis.
    pub async fn outbox_len(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM cache_outbox").await
    }

    /// The file of a SQLite database.
    pub async fn sqlite_file(&self) -> String {
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// A post scheduled for `at` (Unix seconds) and not live, written as a
    /// stopped instance would have left it.
    pub async fn insert_scheduled(&self, slug: &str, title: &str, at: i64) {
        sqlx::query(
            "INSERT INTO posts (slug, title, body, body_html, summary, published, published_at, \
             created_at, updated_at, live, preview_token) \
             VALUES ($1, $2, 'b', '<p>b</p>', 'b', 1, $3, $3, $3, 0, $4)",
        )
        .bind(slug)
        .bind(title)
        .bind(at)
        .bind(format!("tok-{slug}"))
        .execute(&self.db)
        .await
        .unwrap();
    }

    async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db).await.unwrap()
    }
}

/// Changes a post's title inside `write`, as a handler would, without the
/// stale pages a real edit computes.
pub async fn retitle_in(write: &mut folio::write::Write, id: i64, title: &str) {
    sqlx::query("UPDATE posts SET title = $1 WHERE id = $2")
        .bind(title)
        .bind(id)
        .execute(&mut **write.tx())
        .await
        .unwrap();
}
