//! The database locked or gone: `503` with a page, never `500`, logged,
//! nothing half-written.

use crate::helpers::{ADMIN_PASSWORD, ADMIN_USER, Backend, TestApp, browser, csrf_in, spawn_app};
use sqlx::{Connection, Executor};

/// Requests the app has logged, from its request histogram in `/metrics`.
/// The recorder is shared by every app in this process: compare before and
/// after, for a route and status no other test produces.
async fn logged(app: &TestApp, method: &str, route: &str, status: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    let labels = [
        format!("method=\"{method}\""),
        format!("route=\"{route}\""),
        format!("status=\"{status}\""),
    ];
    text.lines()
        .filter(|l| l.starts_with("folio_http_request_duration_seconds_count{"))
        .filter(|l| labels.iter().all(|label| l.contains(label.as_str())))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

async fn assert_unavailable_page(r: reqwest::Response, what: &str) {
    assert_eq!(r.status().as_u16(), 503, "{what}");
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/html"),
        "{what}: an HTML page"
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("cannot reach its database"),
        "{what}: the page says why"
    );
}

async fn sessions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The session store writes after the handler: a new visitor's CSRF token,
/// a login's new session. With SQLite's write lock held elsewhere past the
/// busy timeout, those answer 503 with a page (actix-session's own answer
/// is an opaque 500), the request log has them, and no session was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_writes_while_sqlite_is_locked_answer_503_and_are_logged() {
    let app = spawn_app(Backend::Sqlite).await;
    let path: String =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    // Holds a login form, so its session exists before the lock.
    let returning = browser();
    let page = returning.get(app.url("/login")).send().await.unwrap();
    let token = csrf_in(&page.text().await.unwrap());
    let newcomer = browser();
    let sessions_before = sessions(&app).await;
    let logged_get = logged(&app, "GET", "/login", "503").await;
    let logged_post = logged(&app, "POST", "/login", "503").await;

    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
        .await
        .unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let login = [
        ("username", ADMIN_USER),
        ("password", ADMIN_PASSWORD),
        ("csrf_token", token.as_str()),
    ];
    let (first_visit, log_in) = tokio::join!(
        newcomer.get(app.url("/login")).send(),
        returning.post(app.url("/login")).form(&login).send(),
    );
    let (first_visit, log_in) = (first_visit.unwrap(), log_in.unwrap());
    assert!(first_visit.headers().get("set-cookie").is_none());
    assert!(log_in.headers().get("set-cookie").is_none());
    assert_unavailable_page(first_visit, "a first visit to /login").await;
    assert_unavailable_page(log_in, "a login").await;
    holder.execute("ROLLBACK").await.unwrap();

    assert!(logged(&app, "GET", "/login", "503").await > logged_get);
    assert!(logged(&app, "POST", "/login", "503").await > logged_post);
    assert_eq!(sessions(&app).await, sessions_before, "no session was made");
    let r = returning.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303, "the login did not happen");
    // The lock released, the same login works.
    let r = returning
        .post(app.url("/login"))
        .form(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
}
