//! The invalidation log reads newest first by commit time, whatever order
//! the writes' background tasks (re-warm, then the log entry) ended in.

use crate::both_databases;
use crate::helpers::{Backend, Options, spawn_pair};
use futures_util::future::join_all;
use std::time::{Duration, Instant};

const WRITES: usize = 8;

async fn the_log_is_newest_first_when_close_writes_end_out_of_order(backend: Backend) {
    let mut options = Options::new(backend).await;
    // Slow renders make re-warm, and so each log entry, end late, by how
    // many pages each write made stale.
    options.render_delay_ms = 40;
    let (a, b) = spawn_pair(options).await;
    let (on_a, on_b) = (a.login().await, b.login().await);
    let mut ids = Vec::new();
    for i in 0..WRITES {
        let slug = on_a.create(&format!("Ordered {i}"), "b").await;
        // Every other post's page is cached: its edit re-warms one more page.
        if i % 2 == 0 {
            a.fetch(&format!("/posts/{slug}")).await;
        }
        ids.push((a.post_id(&slug).await, slug));
    }
    a.fetch("/").await;
    a.fetch("/feed.xml").await;
    let writes = ids.iter().enumerate().map(|(i, (id, slug))| {
        let admin = if i % 2 == 0 { &on_a } else { &on_b };
        async move {
            tokio::time::sleep(Duration::from_millis(5 * i as u64)).await;
            let r = admin
                .edit(*id, &format!("Ordered {i}, edited"), slug, "b", true)
                .await;
            assert_eq!(r.status().as_u16(), 303);
        }
    });
    join_all(writes).await;
    let started = Instant::now();
    let log = loop {
        let log = on_a.panel().await["invalidations"].clone();
        let edits = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["cause"].as_str().unwrap().starts_with("edit of post"))
            .count();
        if edits >= WRITES {
            break log;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "every edit is logged: {log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let at: Vec<chrono::DateTime<chrono::FixedOffset>> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] >= w[1]),
        "newest first by commit time: {log:#}"
    );
}
both_databases!(the_log_is_newest_first_when_close_writes_end_out_of_order);
