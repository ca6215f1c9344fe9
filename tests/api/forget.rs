//! Redis that forgets what it confirmed, and instances without Redis: folio
//! never serves a page older than a write it has answered.

use crate::both_databases;
use crate::helpers::{Backend, Fetched, Options, PrivateRedis, Proxy, spawn_pair, spawn_with};
use std::time::{Duration, Instant};

/// Reads `paths` on both instances until each is a `HIT` there.
async fn warm(apps: [&crate::helpers::TestApp; 2], paths: &[String], when: &str) {
    for app in apps {
        for p in paths {
            app.fetch(p).await;
            assert_eq!(app.fetch(p).await.cache, "HIT", "{p} cached {when}");
        }
    }
}

/// Reads `paths` on both instances for `period`; panics if any shows `old`.
async fn never_shows(
    apps: [&crate::helpers::TestApp; 2],
    paths: &[String],
    old: &str,
    period: Duration,
) {
    let started = Instant::now();
    while started.elapsed() < period {
        for app in apps {
            for p in paths {
                let Fetched {
                    status,
                    cache,
                    body,
                } = app.fetch(p).await;
                assert!(status < 500, "{p}: {status}");
                assert!(!body.contains(old), "{p} served the old content ({cache})");
            }
        }
    }
}

async fn a_redis_restarted_from_an_older_snapshot_serves_nothing_stale(backend: Backend) {
    let mut redis = PrivateRedis::persistent();
    let mut options = Options::new(backend).await;
    options.redis_url = redis.url();
    let (a, b) = spawn_pair(options).await;
    let admin = a.login().await;
    let slug = admin.create("Title before", "b").await;
    let paths = vec![
        "/".to_string(),
        format!("/posts/{slug}"),
        "/feed.xml".to_string(),
    ];
    warm([&a, &b], &paths, "before the snapshot").await;
    // The snapshot holds the old pages, the old generation and the old sequence.
    redis.cli(&["SAVE"]);
    let id = a.post_id(&slug).await;
    assert_eq!(
        admin
            .edit(id, "Title after", &slug, "b", true)
            .await
            .status()
            .as_u16(),
        303
    );
    for app in [&a, &b] {
        for p in &paths {
            app.fetch(p).await; // cached again, with the new title
        }
    }
    // A crash, and a restart from the snapshot.
    redis.stop();
    redis.restart();
    never_shows(
        [&a, &b],
        &paths,
        "Title before",
        Duration::from_millis(1500),
    )
    .await;
    a.wait_until_cache_in_use().await;
    b.wait_until_cache_in_use().await;
    never_shows([&a, &b], &paths, "Title before", Duration::from_millis(300)).await;
    let Fetched { cache, body, .. } = a.fetch(&paths[1]).await;
    assert!(body.contains("Title after"));
    assert!(
        cache == "HIT" || cache == "MISS",
        "the cache is used again: {cache}"
    );
}
both_databases!(a_redis_restarted_from_an_older_snapshot_serves_nothing_stale);

async fn a_flushed_redis_and_a_lost_sequence_are_noticed(backend: Backend) {
    let redis = PrivateRedis::start();
    let mut options = Options::new(backend).await;
    options.redis_url = redis.url();
    let (a, b) = spawn_pair(options).await;
    let admin = a.login().await;
    let slug = admin.create("Kept", "b").await;
    let path = format!("/posts/{slug}");
    a.fetch(&path).await;
    // An operator deletes the bookkeeping keys: the next renewal resets.
    redis.cli(&[
        "DEL",
        &format!("{}seq", a.prefix),
        &format!("{}epoch", a.prefix),
    ]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = a.post_id(&slug).await;
    admin.edit(id, "Kept, edited", &slug, "b", true).await;
    redis.cli(&["FLUSHALL"]);
    never_shows(
        [&a, &b],
        std::slice::from_ref(&path),
        "Kept<",
        Duration::from_millis(500),
    )
    .await;
    a.wait_until_cache_in_use().await;
    assert!(a.fetch(&path).await.body.contains("Kept, edited"));
}
both_databases!(a_flushed_redis_and_a_lost_sequence_are_noticed);

async fn a_write_from_an_instance_without_redis_reaches_the_cached_pages(backend: Backend) {
    let options = Options::new(backend).await;
    let cached = spawn_with(options.clone()).await;
    let mut off = options.clone();
    off.redis_url = "off".to_string();
    let plain = spawn_with(off).await;
    let admin = plain.login().await;
    let slug = admin.create("Written without a cache", "b").await;
    let path = format!("/posts/{slug}");
    for p in ["/", path.as_str()] {
        cached.fetch(p).await;
        assert_eq!(cached.fetch(p).await.cache, "HIT");
    }
    let id = plain.post_id(&slug).await;
    let r = admin
        .edit(id, "Renamed without a cache", &slug, "b", true)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for p in ["/", path.as_str()] {
        let body = cached.fetch(p).await.body;
        assert!(
            body.contains("Renamed without a cache"),
            "{p} after the 303"
        );
    }
}
both_databases!(a_write_from_an_instance_without_redis_reaches_the_cached_pages);

/// A failover to a replica that had not received the last writes: it holds
/// the pages, generation and sequence from before an edit. After the edit's
/// 303, neither instance may serve the old title from it, nor from the
/// copies they keep in process.
async fn a_failover_to_a_lagging_replica_serves_nothing_stale(backend: Backend) {
    let primary = PrivateRedis::start();
    let replica = PrivateRedis::replica_of(&primary);
    let proxy = Proxy::start(primary.address()).await;
    let mut options = Options::new(backend).await;
    options.redis_url = format!("redis://127.0.0.1:{}", proxy.port);
    let (a, b) = spawn_pair(options).await;
    let admin = a.login().await;
    let slug = admin.create("Title before", "b").await;
    let paths = vec![
        "/".to_string(),
        format!("/posts/{slug}"),
        "/feed.xml".to_string(),
    ];
    warm([&a, &b], &paths, "before the edit").await;
    // The replica has everything so far, then stops following.
    let acked = primary.ask(&["WAIT", "1", "5000"]);
    assert_eq!(acked.trim(), "1", "the replica caught up");
    replica.cli(&["REPLICAOF", "NO", "ONE"]);

    let id = a.post_id(&slug).await;
    let r = admin.edit(id, "Title after", &slug, "b", true).await;
    assert_eq!(r.status().as_u16(), 303);
    // The failover: the replica, with the old pages, is the cache now.
    proxy.switch_to(replica.address()).await;
    never_shows(
        [&a, &b],
        &paths,
        "Title before",
        Duration::from_millis(1500),
    )
    .await;
    a.wait_until_cache_in_use().await;
    b.wait_until_cache_in_use().await;
    never_shows([&a, &b], &paths, "Title before", Duration::from_millis(300)).await;
    for app in [&a, &b] {
        app.fetch(&paths[1]).await;
        let Fetched { cache, body, .. } = app.fetch(&paths[1]).await;
        assert!(body.contains("Title after"));
        assert_eq!(cache, "HIT", "the replica is used as the cache");
    }
}
both_databases!(a_failover_to_a_lagging_replica_serves_nothing_stale);
