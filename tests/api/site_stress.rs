//! Settings and retag writes under concurrent readers, on one instance and
//! two: no read that starts after a write's `303` is stale.

use crate::both_databases;
use crate::helpers::{Backend, Options, spawn_pair};

/// Readers crawl every kind of page while a writer alternates settings
/// changes and retag-and-rename edits; every read that starts after a
/// write's `303` must show that write or a later one.
/// Re-warm rewrites stale pages soon after a write, which would hide a
/// missing invalidation: one variant runs without it.
async fn site_stress(backend: Backend, two_instances: bool, rewarm: bool) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let mut options = Options::new(backend).await;
    options.render_delay_ms = 25;
    options.rewarm = rewarm;
    let (writer, reader) = if two_instances {
        let (a, b) = spawn_pair(options).await;
        (Arc::new(a), Arc::new(b))
    } else {
        let a = Arc::new(crate::helpers::spawn_with(options).await);
        (a.clone(), a)
    };
    let admin = writer.login().await;
    admin.create_tagged("Other", "t0, t1, t2").await;
    let slug = admin.create_tagged("Post v0", "t0").await;
    let id = writer.post_id(&slug).await;
    assert_eq!(
        admin.settings("Site v0", "", "").await.status().as_u16(),
        303
    );

    let settings_floor = Arc::new(AtomicU64::new(0));
    let post_floor = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let pages = [
        "/".to_string(),
        format!("/posts/{slug}"),
        "/posts/other".to_string(),
        "/tags".to_string(),
        "/tags/t0".to_string(),
        "/tags/t1".to_string(),
        "/tags/t2".to_string(),
        "/about".to_string(),
    ];
    let mut readers = Vec::new();
    for r in 0..4 {
        let (sf, pf, done, app, pages) = (
            settings_floor.clone(),
            post_floor.clone(),
            done.clone(),
            reader.clone(),
            pages.clone(),
        );
        readers.push(tokio::spawn(async move {
            let client = crate::helpers::browser();
            let mut reads = 0u64;
            let mut i = r;
            while !done.load(Ordering::SeqCst) {
                let (s_floor, p_floor) = (sf.load(Ordering::SeqCst), pf.load(Ordering::SeqCst));
                let path = &pages[i % pages.len()];
                i += 1;
                let response = client.get(app.url(path)).send().await.unwrap();
                let status = response.status().as_u16();
                assert!(status == 200 || status == 404, "{path}: {status}");
                let body = response.text().await.unwrap();
                if status == 200 {
                    let site = crate::helpers::number_after(&body, "Site v")
                        .expect("the title is on every page");
                    assert!(
                        site >= s_floor,
                        "{path} showed Site v{site} after v{s_floor}"
                    );
                }
                if let Some(post) = crate::helpers::number_after(&body, "Post v") {
                    assert!(
                        post >= p_floor,
                        "{path} showed Post v{post} after v{p_floor}"
                    );
                }
                reads += 1;
            }
            reads
        }));
    }
    for v in 1..=16u64 {
        if v % 2 == 0 {
            let r = admin.settings(&format!("Site v{v}"), "", "").await;
            assert_eq!(r.status().as_u16(), 303);
            settings_floor.store(v, Ordering::SeqCst);
        } else {
            let tags = format!("t{}", v % 3);
            let title = format!("Post v{v}");
            let r = admin
                .submit_post(
                    Some(id),
                    &[
                        ("title", &title),
                        ("slug", &slug),
                        ("body", "b"),
                        ("tags", &tags),
                        ("published", "on"),
                    ],
                )
                .await;
            assert_eq!(r.status().as_u16(), 303);
            post_floor.store(v, Ordering::SeqCst);
        }
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    }
    done.store(true, Ordering::SeqCst);
    let mut total = 0;
    for reader in readers {
        total += reader.await.expect("no reader saw a stale page");
    }
    assert!(total > 30, "readers made {total} reads");
}

async fn no_read_after_a_settings_or_retag_write_is_stale(backend: Backend) {
    site_stress(backend, false, false).await;
}
both_databases!(no_read_after_a_settings_or_retag_write_is_stale);

async fn no_read_on_a_second_instance_after_a_settings_or_retag_write_is_stale(backend: Backend) {
    site_stress(backend, true, true).await;
}
both_databases!(no_read_on_a_second_instance_after_a_settings_or_retag_write_is_stale);
