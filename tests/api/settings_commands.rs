//! What a settings change sends Redis: never a scan of the keyspace, which
//! may hold millions of other applications' keys (SPEC, Site settings).

use crate::both_databases;
use crate::helpers::{Backend, Options, PrivateRedis, TestApp, spawn_with};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const PAGES: [&str; 3] = ["/", "/posts/first", "/about"];

/// An instance on a Redis of its own that also holds 2,000 keys of another
/// application, with a few pages cached.
async fn instance_on_a_crowded_redis(backend: Backend, rewarm: bool) -> (PrivateRedis, TestApp) {
    let redis = PrivateRedis::start();
    let mut options = Options::new(backend).await;
    options.redis_url = redis.url();
    options.rewarm = rewarm;
    let app = spawn_with(options).await;
    let mut conn = app.redis().await;
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.cmd("SET")
            .arg(format!("other-app:item:{i}"))
            .arg("x")
            .ignore();
    }
    pipe.query_async::<()>(&mut conn).await.unwrap();
    let admin = app.login().await;
    admin.create("First", "b").await;
    for p in PAGES {
        app.fetch(p).await;
        assert_eq!(app.fetch(p).await.cache, "HIT", "{p} is cached");
    }
    (redis, app)
}

/// Changes the title, waits for its log entry (written once re-warm, if
/// any, is done), and returns Redis's command counts since the change,
/// without the commands this test sent.
async fn change_the_title(app: &TestApp) -> BTreeMap<String, u64> {
    let mut conn = app.redis().await;
    let admin = app.login().await;
    redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let r = admin.settings("Renamed Without Scans", "", "").await;
    assert_eq!(r.status().as_u16(), 303);
    let log = format!("{}invalidation_log", app.prefix);
    let started = Instant::now();
    let mut polls = 0;
    loop {
        polls += 1;
        let entries: Vec<String> = redis::cmd("ZRANGE")
            .arg(&log)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .unwrap();
        if entries.iter().any(|e| e.contains("\"cause\":\"settings")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the change is logged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut counts = BTreeMap::new();
    for line in info.lines() {
        let Some((name, rest)) = line.trim().split_once(':') else {
            continue;
        };
        let Some(name) = name.strip_prefix("cmdstat_") else {
            continue;
        };
        let calls = rest
            .split(',')
            .find_map(|f| f.strip_prefix("calls="))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        counts.insert(name.to_string(), calls);
    }
    let zrange = counts.entry("zrange".to_string()).or_default();
    *zrange = zrange.saturating_sub(polls);
    counts.remove("info");
    counts.retain(|_, n| *n > 0);
    counts
}

fn assert_no_scan(counts: &BTreeMap<String, u64>) {
    for scan in ["scan", "keys"] {
        assert!(
            !counts.contains_key(scan),
            "a settings change sent {scan}: {counts:?}"
        );
    }
}

async fn without_rewarm_a_settings_change_sends_a_constant_handful(backend: Backend) {
    let (_redis, app) = instance_on_a_crowded_redis(backend, false).await;
    let counts = change_the_title(&app).await;
    assert_no_scan(&counts);
    // The change itself is a script and the log's two commands; the rest
    // is the reconciler's passes during the change's lease wait (about ten
    // commands each, one TIME each: nothing else calls it without re-warm),
    // whatever the keyspace holds.
    let total: u64 = counts.values().sum();
    let passes = counts.get("time").copied().unwrap_or(0);
    assert!(total <= 10 + 12 * passes, "{total} commands: {counts:?}");
    assert!(
        !counts.contains_key("zrevrange"),
        "without re-warm nothing is looked up: {counts:?}"
    );
    for p in PAGES {
        let page = app.fetch(p).await;
        assert_eq!(page.cache, "MISS", "{p} is stale, not re-warmed");
        assert!(page.body.contains("Renamed Without Scans"));
    }
}
both_databases!(without_rewarm_a_settings_change_sends_a_constant_handful);

async fn rewarm_after_a_settings_change_finds_its_pages_without_a_scan(backend: Backend) {
    let (_redis, app) = instance_on_a_crowded_redis(backend, true).await;
    let counts = change_the_title(&app).await;
    assert_no_scan(&counts);
    // Logged once re-warm is done: every page read before is stored again.
    for p in PAGES {
        let page = app.fetch(p).await;
        assert_eq!(page.cache, "HIT", "{p} was re-warmed");
        assert!(page.body.contains("Renamed Without Scans"), "{p}");
    }
}
both_databases!(rewarm_after_a_settings_change_finds_its_pages_without_a_scan);
