//! The database locked or gone: `503` with a page, never `500`, logged,
//! nothing half-written; and while it is gone, `503` at once rather than
//! after the pool's acquire timeout.
//!
//! SQLite cannot be made unreachable, but another process can hold its write
//! lock; PostgreSQL can be, for one test only, by reaching it through a
//! proxy the test cuts. So each test runs on the database it can fault.

use crate::helpers::{
    ADMIN_PASSWORD, ADMIN_USER, Admin, Backend, Fetched, Options, Proxy, TestApp, browser, csrf_in,
    spawn_app, spawn_with,
};
use sqlx::{Connection, Executor};
use std::time::{Duration, Instant};

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
    assert_eq!(r.headers()["cache-control"], "no-store", "{what}");
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
    app.session_count().await
}

/// The session store writes after the handler: a new visitor's CSRF token,
/// a login's new session. With SQLite's write lock held elsewhere past the
/// busy timeout, those answer 503 with a page (actix-session's own answer
/// is an opaque 500), the request log has them, and no session was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_writes_while_sqlite_is_locked_answer_503_and_are_logged() {
    let app = spawn_app(Backend::Sqlite).await;
    let path = app.sqlite_file().await;
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

/// Options for an app whose PostgreSQL is reached through a proxy, with
/// `delay` added to every chunk each way.
async fn postgres_through_proxy(delay: Duration) -> (Options, Proxy) {
    let mut options = Options::new(Backend::Postgres).await;
    let mut url = url::Url::parse(&options.database_url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::with_delay(target, delay).await;
    url.set_port(Some(proxy.port)).unwrap();
    options.database_url = url.to_string();
    (options, proxy)
}

/// PostgreSQL goes away under a running app: the first request that meets
/// it answers 503 with a page (not 500) once the pool gives up; from then on
/// requests answer 503 at once; when it is back, the app recovers by itself
/// and nothing was half-written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gone_answers_503_at_once_and_recovers() {
    let (options, proxy) = postgres_through_proxy(Duration::ZERO).await;
    let app = spawn_with(options).await;
    let admin = app.login().await;
    let slug = admin.create("Before the outage", "b").await;
    let id = app.post_id(&slug).await;
    let marked_before = marked_down_total(&app).await;

    proxy.cut().await;
    let started = Instant::now();
    let r = admin.edit(id, "During the outage", &slug, "b", true).await;
    assert_unavailable_page(r, "the edit that meets the outage").await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(marked_down_total(&app).await > marked_before);

    // Known to be gone: no more waiting on the pool.
    for path in ["/admin", &format!("/admin/posts/{id}/edit")] {
        let started = Instant::now();
        let r = admin.get(path).await;
        assert!(started.elapsed() < Duration::from_secs(1), "{path} at once");
        assert_unavailable_page(r, path).await;
    }
    let started = Instant::now();
    let r = admin.edit(id, "During the outage", &slug, "b", true).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "an edit at once"
    );
    assert_unavailable_page(r, "a second edit").await;
    for path in ["/", "/tags", &format!("/posts/{slug}")] {
        let started = Instant::now();
        let status = app.get(path).await.status().as_u16();
        assert!(started.elapsed() < Duration::from_secs(1), "{path} at once");
        assert!(matches!(status, 200 | 503), "{path}: {status}");
    }
    let started = Instant::now();
    let health = app.get("/healthz").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "/healthz at once"
    );
    assert_eq!(health.status().as_u16(), 503);

    proxy.restore().await;
    recovers(&admin).await;
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    let body = app.fetch(&format!("/posts/{slug}")).await.body;
    assert!(body.contains("Before the outage") && !body.contains("During the outage"));
    let r = admin.edit(id, "After the outage", &slug, "b", true).await;
    assert_eq!(r.status().as_u16(), 303);

    // A second outage, met this time by a visitor's render: the mark is set
    // again, and cleared again.
    proxy.cut().await;
    let marked_before = marked_down_total(&app).await;
    assert_unavailable_page(app.get("/about").await, "a visitor's render").await;
    assert!(marked_down_total(&app).await > marked_before);
    let started = Instant::now();
    assert_unavailable_page(admin.get("/admin").await, "/admin").await;
    assert!(started.elapsed() < Duration::from_secs(1), "/admin at once");
    proxy.restore().await;
    recovers(&admin).await;
}

/// The admin's pages work again within 5 s, with no help.
async fn recovers(admin: &Admin) {
    let started = Instant::now();
    while admin.get("/admin").await.status().as_u16() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the app recovers by itself"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How often this process marked a database down (shared by every app in
/// the process; only this file's tests cause it).
async fn marked_down_total(app: &TestApp) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find(|l| l.starts_with("folio_db_marked_down_total "))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// PostgreSQL far away: every round trip to it takes over 60 ms, which is
/// most of a lease. Renewals still land every `RECONCILE_EVERY`, so a warm
/// page stays a hit instead of falling back to renders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_slow_database_warm_pages_stay_hits() {
    let (options, _proxy) = postgres_through_proxy(Duration::from_millis(30)).await;
    let app = spawn_with(options).await;
    let admin = app.login().await;
    let slug = admin.create("Far from its database", "b").await;
    let path = format!("/posts/{slug}");
    app.fetch(&path).await;

    // About two seconds of visits, many leases long. The first few may
    // come before the cache is in use again after the create.
    let mut answers = Vec::new();
    for i in 0..50 {
        let Fetched {
            status,
            cache,
            body,
        } = app.fetch(&path).await;
        assert_eq!(status, 200);
        assert!(body.contains("Far from its database"));
        answers.push(cache);
        assert!(
            i < 3 || answers[i] == "HIT",
            "visit {i} was not a hit: {answers:?}"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

/// With an edge configured, a visitor's render reads the database's write
/// sequence around it, to know whether the edge may store the page. While
/// the database is marked down that read is skipped like every other, so
/// visitors get their `503` at once, not after the pool's wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_edge_postgres_gone_answers_visitors_at_once() {
    let (mut options, proxy) = postgres_through_proxy(Duration::ZERO).await;
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    options.edge_purge = Some(format!("http://{}", unused.local_addr().unwrap()));
    drop(unused);
    // Without Redis every page is a render.
    options.redis_url = "off".to_string();
    let app = spawn_with(options).await;
    let Fetched { status, cache, .. } = app.fetch("/").await;
    assert_eq!((status, cache.as_str()), (200, "BYPASS"));

    proxy.cut().await;
    // The first visitor meets the outage and marks the database down.
    assert_unavailable_page(app.get("/about").await, "a visitor's render").await;
    for path in ["/", "/tags", "/about", "/feed.xml"] {
        let started = Instant::now();
        let r = app.get(path).await;
        assert!(started.elapsed() < Duration::from_secs(1), "{path} at once");
        assert_unavailable_page(r, path).await;
    }
    proxy.restore().await;
}
