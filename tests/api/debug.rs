use crate::both_databases;
use crate::helpers::{Backend, Options, PrivateRedis, spawn_app, spawn_pair, x_cache};
use std::time::{Duration, Instant};

async fn counts_are_exact_and_shared_by_two_instances(backend: Backend) {
    let (a, b) = spawn_pair(Options::new(backend).await).await;
    let admin = a.login().await;
    let slug = admin.create("Counted", "b").await;

    // 1 miss + 4 hits of the post, 1 miss + 2 hits of the index, over both instances.
    a.fetch(&format!("/posts/{slug}")).await;
    for app in [&a, &b, &a, &b] {
        assert_eq!(app.fetch(&format!("/posts/{slug}")).await.cache, "HIT");
    }
    b.fetch("/").await;
    a.fetch("/").await;
    b.fetch("/").await;
    // 3 admin bypasses.
    for _ in 0..3 {
        admin.get("/feed.xml").await;
    }

    let json: serde_json::Value = admin.get("/debug/cache.json").await.json().await.unwrap();
    assert_eq!(json["hits"], 6);
    assert_eq!(json["misses"], 2);
    assert_eq!(json["bypasses"], 3);
    assert_eq!(json["errors"], 0);
    assert_eq!(json["redis_up"], true);
    let keys: Vec<&str> = json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&format!("{}view//posts/{slug}", a.prefix).as_str()));
    assert!(keys.contains(&format!("{}view//", a.prefix).as_str()));
    for k in json["keys"].as_array().unwrap() {
        let ttl = k["ttl"].as_i64().unwrap();
        assert!(ttl > 0 && ttl <= 1800);
    }
    let post_route = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == "post")
        .unwrap();
    assert_eq!(post_route["hits"], 4);
    assert_eq!(post_route["misses"], 1);

    // The panel shows the same figures.
    let html = admin.get("/debug/cache").await.text().await.unwrap();
    assert!(html.contains("<svg"));
    assert!(html.contains(&format!("{}view//posts/{slug}", a.prefix)));
}
both_databases!(counts_are_exact_and_shared_by_two_instances);

async fn the_panel_is_for_the_admin_only(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/debug/cache", "/debug/cache.json"] {
        let r = app.get(path).await;
        assert_eq!(r.status().as_u16(), 303, "{path}");
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login?next=")
        );
    }
    let r = crate::helpers::browser()
        .post(app.url("/debug/cache/flush"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
}
both_databases!(the_panel_is_for_the_admin_only);

async fn flush_removes_this_apps_view_keys_and_nothing_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin.create("Flush me", "b").await;
    app.fetch("/").await;
    app.fetch("/posts/flush-me").await;
    let mut conn = app.redis().await;
    let foreign = [
        format!("other-{}view//", app.prefix),
        format!("{}viewer", app.prefix),
        format!("{}stats-like", app.prefix),
        format!("view//{}", app.prefix),
    ];
    for key in &foreign {
        let _: () = redis::cmd("SET")
            .arg(key)
            .arg("keep")
            .arg("EX")
            .arg(60)
            .query_async(&mut conn)
            .await
            .unwrap();
    }

    let r = admin.post_form("/debug/cache/flush", &[]).await;
    assert_eq!(r.status().as_u16(), 303);

    assert!(!app.cached("/").await && !app.cached("/posts/flush-me").await);
    for key in &foreign {
        let exists: i64 = redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(exists, 1, "{key} survives");
        let _: () = redis::cmd("DEL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    assert_eq!(app.fetch("/").await.cache, "MISS");
}
both_databases!(flush_removes_this_apps_view_keys_and_nothing_else);

async fn metrics_are_prometheus_text(backend: Backend) {
    let app = spawn_app(backend).await;
    app.fetch("/").await;
    app.fetch("/").await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    let mut samples = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP") || line.starts_with("# TYPE"),
                "{line}"
            );
            continue;
        }
        let (name, value) = line.rsplit_once(' ').expect("sample has a value");
        assert!(
            value.parse::<f64>().is_ok() || value == "+Inf" || value == "NaN",
            "{line}"
        );
        assert!(name.chars().next().unwrap().is_ascii_alphabetic(), "{line}");
        samples += 1;
    }
    assert!(samples > 0);
    assert!(text.contains("folio_http_request_duration_seconds_count"));
    assert!(text.contains("folio_http_request_duration_seconds_bucket"));
    assert!(text.contains("cache=\"HIT\""));
}
both_databases!(metrics_are_prometheus_text);

/// What the panel counts, as numbers.
fn totals(json: &serde_json::Value) -> [u64; 3] {
    ["hits", "misses", "bypasses"].map(|k| json[k].as_u64().unwrap())
}

/// Tallies an answer by its `X-Cache`, in the panel's order.
fn tally(made: &mut [u64; 3], cache: &str) {
    match cache {
        "HIT" => made[0] += 1,
        "MISS" => made[1] += 1,
        "BYPASS" => made[2] += 1,
        other => panic!("no X-Cache: {other:?}"),
    }
}

/// `CLIENT PAUSE … WRITE` holds every count sent meanwhile, and Redis runs
/// them all when the pause ends, the sends folio gave up on and repeated
/// included. Each answer is still counted exactly once.
async fn counts_stay_exact_across_a_pause_for_writes(backend: Backend) {
    let redis = PrivateRedis::start();
    let mut options = Options::new(backend).await;
    options.redis_url = redis.url();
    let (a, b) = spawn_pair(options).await;
    let admin = a.login().await;
    let slug = admin.create("Counted through a pause", "b").await;
    let path = format!("/posts/{slug}");
    a.wait_until_cache_in_use().await;
    b.wait_until_cache_in_use().await;
    let before = totals(&admin.panel().await);

    let mut made = [0; 3];
    for (app, path) in [
        (&a, &path),
        (&a, &path),
        (&b, &path),
        (&a, &"/tags".to_string()),
    ] {
        tally(&mut made, &app.fetch(path).await.cache);
    }
    for _ in 0..2 {
        tally(&mut made, &x_cache(&admin.get(&path).await));
    }
    assert_eq!(
        made,
        [2, 2, 2],
        "hits, misses and bypasses before the pause"
    );

    let paused_at = Instant::now();
    redis.cli(&["CLIENT", "PAUSE", "2000", "WRITE"]);
    // During the pause: copies under the lease while it lasts, then renders;
    // `/about` was never cached, and `/tags` is cached on one instance only.
    for _ in 0..10 {
        for (app, path) in [
            (&a, &path),
            (&b, &path),
            (&b, &"/tags".to_string()),
            (&a, &"/about".to_string()),
        ] {
            tally(&mut made, &app.fetch(path).await.cache);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500).saturating_sub(paused_at.elapsed())).await;
    a.wait_until_cache_in_use().await;
    b.wait_until_cache_in_use().await;

    let after = totals(&admin.panel().await);
    let counted = [0, 1, 2].map(|i| after[i] - before[i]);
    assert_eq!(counted, made, "hits, misses and bypasses counted once each");
}
both_databases!(counts_stay_exact_across_a_pause_for_writes);
