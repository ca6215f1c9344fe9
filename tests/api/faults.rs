//! Redis failing: down from the start, stopped and restarted, hung, paused
//! for writes. The blog keeps answering from the database and never serves a
//! page that may be stale.

use crate::both_databases;
use crate::helpers::{Backend, Fetched, Options, PrivateRedis, TestApp, spawn_pair, spawn_with};
use folio::cache::deps::Stale;
use folio::cache::keys::Page;
use folio::write::Cause;
use std::time::{Duration, Instant};

async fn app_on(redis: &PrivateRedis, backend: Backend) -> TestApp {
    let mut options = Options::new(backend).await;
    options.redis_url = redis.url();
    spawn_with(options).await
}

async fn with_redis_down_pages_render_from_the_database_and_the_admin_can_write(backend: Backend) {
    let mut redis = PrivateRedis::start();
    redis.stop();
    let app = app_on(&redis, backend).await;

    let started = Instant::now();
    let Fetched { status, cache, .. } = app.fetch("/").await;
    assert_eq!((status, cache.as_str()), (200, "BYPASS"));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "bounded added latency"
    );

    let admin = app.login().await;
    let slug = admin.create("Written during the outage", "b").await;
    let Fetched {
        status,
        cache,
        body,
    } = app.fetch(&format!("/posts/{slug}")).await;
    assert_eq!((status, cache.as_str()), (200, "BYPASS"));
    assert!(body.contains("Written during the outage"));
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);

    // Redis comes back: caching resumes by itself.
    redis.restart();
    app.wait_until_cache_in_use().await;
    assert_eq!(app.fetch("/").await.cache, "MISS");
    let Fetched { cache, body, .. } = app.fetch("/").await;
    assert_eq!(cache, "HIT");
    assert!(body.contains("Written during the outage"));
}
both_databases!(with_redis_down_pages_render_from_the_database_and_the_admin_can_write);

async fn redis_stopped_and_restarted_mid_test_never_yields_5xx_or_stale_pages(backend: Backend) {
    let mut redis = PrivateRedis::start();
    let app = app_on(&redis, backend).await;
    let admin = app.login().await;
    let slug = admin.create("Before", "before").await;
    let id = app.post_id(&slug).await;
    app.fetch(&format!("/posts/{slug}")).await;
    assert_eq!(app.fetch(&format!("/posts/{slug}")).await.cache, "HIT");

    redis.stop();
    let Fetched { status, body, .. } = app.fetch(&format!("/posts/{slug}")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Before"));
    let r = admin.edit(id, "After", &slug, "after", true).await;
    assert_eq!(r.status().as_u16(), 303);
    let Fetched {
        status,
        cache,
        body,
    } = app.fetch(&format!("/posts/{slug}")).await;
    assert_eq!((status, cache.as_str()), (200, "BYPASS"));
    assert!(body.contains("After"));

    redis.restart();
    app.wait_until_cache_in_use().await;
    for _ in 0..2 {
        let Fetched { status, body, .. } = app.fetch(&format!("/posts/{slug}")).await;
        assert_eq!(status, 200);
        assert!(body.contains("After") && !body.contains("Before"));
    }
}
both_databases!(redis_stopped_and_restarted_mid_test_never_yields_5xx_or_stale_pages);

/// Redis hangs (DEBUG SLEEP) during an edit but keeps its data: the old page
/// is still in it when it wakes up, and must never be served.
async fn an_edit_while_redis_hangs_never_lets_the_old_page_out(backend: Backend) {
    let redis = PrivateRedis::start();
    let app = app_on(&redis, backend).await;
    let admin = app.login().await;
    let slug = admin.create("Old title", "old").await;
    let id = app.post_id(&slug).await;
    let path = format!("/posts/{slug}");
    app.fetch(&path).await;
    assert_eq!(app.fetch(&path).await.cache, "HIT");

    let port = redis.port;
    let sleeper = std::thread::spawn(move || {
        std::process::Command::new("redis-cli")
            .args(["-p", &port.to_string(), "DEBUG", "SLEEP", "2"])
            .output()
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    let r = admin.edit(id, "New title", &slug, "new", true).await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(started.elapsed() < Duration::from_secs(5));
    let Fetched { status, body, .. } = app.fetch(&path).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("New title"),
        "read after the edit shows it while Redis hangs"
    );

    sleeper.join().unwrap();
    app.wait_until_cache_in_use().await;
    for _ in 0..3 {
        let body = app.fetch(&path).await.body;
        assert!(body.contains("New title") && !body.contains("Old title"));
    }
}
both_databases!(an_edit_while_redis_hangs_never_lets_the_old_page_out);

/// `CLIENT PAUSE … WRITE`: reads still work, deletes wait. Neither this
/// instance nor a second one may serve the old page after the edit's 303.
async fn an_edit_while_redis_is_paused_for_writes_never_lets_the_old_page_out(backend: Backend) {
    let redis = PrivateRedis::start();
    let mut options = Options::new(backend).await;
    options.redis_url = redis.url();
    let (app, other) = spawn_pair(options).await;

    let admin = app.login().await;
    let slug = admin.create("Old title", "old").await;
    let id = app.post_id(&slug).await;
    let path = format!("/posts/{slug}");
    app.fetch(&path).await;
    assert_eq!(app.fetch(&path).await.cache, "HIT");
    assert_eq!(other.fetch(&path).await.cache, "HIT");

    redis.cli(&["CLIENT", "PAUSE", "3000", "WRITE"]);
    let r = admin.edit(id, "New title", &slug, "new", true).await;
    assert_eq!(r.status().as_u16(), 303);
    // The other instance learns of the pending invalidation from the database.
    tokio::time::sleep(folio::cache::RECONCILE_EVERY * 3).await;
    for instance in [&app, &other] {
        let Fetched { status, body, .. } = instance.fetch(&path).await;
        assert_eq!(status, 200);
        assert!(
            body.contains("New title"),
            "no old page while Redis is paused"
        );
    }

    redis.cli(&["CLIENT", "UNPAUSE"]);
    app.wait_until_cache_in_use().await;
    other.wait_until_cache_in_use().await;
    for instance in [&app, &other] {
        let body = instance.fetch(&path).await.body;
        assert!(body.contains("New title"));
    }
}
both_databases!(an_edit_while_redis_is_paused_for_writes_never_lets_the_old_page_out);

/// A writer that died between its commit and its invalidation leaves the
/// invalidation in the outbox; every other instance applies it.
async fn an_invalidation_left_by_a_crashed_writer_is_applied_by_the_others(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Before the crash", "b").await;
    let path = format!("/posts/{slug}");
    app.fetch(&path).await;
    assert_eq!(app.fetch(&path).await.cache, "HIT");

    // A writer commits its change with its invalidation recorded, then dies
    // before it reaches Redis.
    let id = app.post_id(&slug).await;
    let mut write = folio::write::begin(&app.db).await.unwrap();
    crate::helpers::retitle_in(&mut write, id, "After the crash").await;
    let stale = Stale::Pages(vec![Page::Post(slug.clone())]);
    let unapplied = write
        .commit_unapplied(&app.app_cache, Cause::Edit(id), stale)
        .await
        .unwrap();
    drop(unapplied);

    tokio::time::sleep(folio::cache::RECONCILE_EVERY * 3).await;
    let body = app.fetch(&path).await.body;
    assert!(body.contains("After the crash"));
    assert_eq!(app.outbox_len().await, 0, "the outbox is drained");
}
both_databases!(an_invalidation_left_by_a_crashed_writer_is_applied_by_the_others);

/// Another process holds SQLite's write lock for longer than folio waits:
/// the write answers 503 with a page, not 500, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_answers_503_and_changes_nothing() {
    use sqlx::{Connection, Executor};
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    let admin = app.login().await;
    let slug = admin.create("Before the lock", "b").await;
    let id = app.post_id(&slug).await;
    let url = app.sqlite_file().await;
    let mut holder = sqlx::SqliteConnection::connect(&format!("sqlite://{url}"))
        .await
        .unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let r = admin.edit(id, "During the lock", &slug, "b", true).await;
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().await.unwrap().to_lowercase().contains("database"));
    holder.execute("ROLLBACK").await.unwrap();
    let body = app.fetch(&format!("/posts/{slug}")).await.body;
    assert!(body.contains("Before the lock") && !body.contains("During the lock"));
}
