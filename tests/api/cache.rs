use crate::both_databases;
use crate::helpers::{
    Backend, Fetched, Options, browser, spawn_app, spawn_pair, spawn_with, spawn_without_rewarm,
    x_cache,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

async fn each_cacheable_route_misses_then_hits_and_the_admin_bypasses(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Cached", "body").await;
    for path in [
        "/".to_string(),
        format!("/posts/{slug}"),
        "/feed.xml".to_string(),
    ] {
        // The admin's render is fresh and stored nowhere.
        assert_eq!(x_cache(&admin.get(&path).await), "BYPASS", "{path}");
        assert!(
            !app.cached(&path).await,
            "{path}: the admin never fills the cache"
        );
        assert_eq!(app.fetch(&path).await.cache, "MISS", "{path}");
        assert!(app.cached(&path).await, "{path}");
        let Fetched {
            status,
            cache,
            body,
        } = app.fetch(&path).await;
        assert_eq!((status, cache.as_str()), (200, "HIT"), "{path}");
        assert!(body.contains("Cached"));
        assert_eq!(x_cache(&admin.get(&path).await), "BYPASS", "{path}");
    }
}
both_databases!(each_cacheable_route_misses_then_hits_and_the_admin_bypasses);

async fn keys_are_normalized_and_the_keyspace_stays_bounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    for i in 0..11 {
        admin.create(&format!("P{i}"), "b").await;
    }
    assert_eq!(app.fetch("/").await.cache, "MISS");
    // Page 1 under any spelling, and unknown parameters, share the `/` key.
    for q in [
        "/?page=1",
        "/?utm_source=x",
        "/?page=01&x=y",
        "/?x=1&page=1",
    ] {
        assert_eq!(app.fetch(q).await.cache, "HIT", "{q}");
    }
    assert_eq!(app.fetch("/?page=2&junk=1").await.cache, "MISS");
    assert!(app.cached("/").await && app.cached("/?page=2").await);
    let post = "p0";
    assert_eq!(app.fetch(&format!("/posts/{post}?a=b")).await.cache, "MISS");
    assert!(app.cached(&format!("/posts/{post}")).await);

    // Random query strings and headers add no keys.
    for i in 0..50 {
        let r = browser()
            .get(app.url(&format!("/?q={i}&page={}&z={}", i % 7, "x".repeat(i))))
            .header("Accept-Language", format!("xx-{i}"))
            .header("Cookie", format!("junk{i}=1"))
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500);
    }
    let mut conn = app.redis().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}view/*", app.prefix))
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut keys: Vec<String> = keys
        .into_iter()
        .map(|k| k.trim_start_matches(&app.prefix).to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, vec!["view//", "view//?page=2", "view//posts/p0"]);
}
both_databases!(keys_are_normalized_and_the_keyspace_stays_bounded);

async fn editing_a_post_removes_exactly_the_pages_that_show_it(backend: Backend) {
    let app = spawn_without_rewarm(backend).await;
    let admin = app.login().await;
    for i in 0..25 {
        admin.create(&format!("Post {i}"), "b").await;
    }
    // Newest first: "Post 24" is on page 1, "Post 5" is on page 2, "Post 0" on page 3.
    let pages = [
        "/",
        "/?page=2",
        "/?page=3",
        "/posts/post-5",
        "/posts/post-6",
        "/posts/post-8",
        "/feed.xml",
    ];
    for p in pages {
        assert_eq!(app.fetch(p).await.cache, "MISS", "{p}");
    }

    let id = app.post_id("post-5").await;
    let r = admin
        .edit(id, "Post 5, revised", "post-5", "new words", true)
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // Stale: the post, page 2 (which lists it), the feed (which holds it) and
    // its newer neighbour (which links to it by title).
    for p in ["/posts/post-5", "/?page=2", "/feed.xml"] {
        let Fetched { cache, body, .. } = app.fetch(p).await;
        assert_eq!(cache, "MISS", "{p} was removed");
        assert!(body.contains("Post 5, revised"), "{p} shows the edit");
    }
    assert_eq!(
        app.fetch("/posts/post-6").await.cache,
        "MISS",
        "a neighbour"
    );
    // Untouched pages stay cached.
    for p in ["/", "/?page=3", "/posts/post-8"] {
        assert_eq!(app.fetch(p).await.cache, "HIT", "{p} was not touched");
    }
}
both_databases!(editing_a_post_removes_exactly_the_pages_that_show_it);

async fn creating_and_deleting_shift_every_later_index_page(backend: Backend) {
    let app = spawn_without_rewarm(backend).await;
    let admin = app.login().await;
    for i in 0..21 {
        admin.create(&format!("Old {i}"), "b").await;
    }
    for p in ["/", "/?page=2", "/?page=3", "/feed.xml"] {
        app.fetch(p).await;
    }

    admin.create("Brand new", "b").await;

    for p in ["/", "/?page=2", "/?page=3", "/feed.xml"] {
        assert_eq!(app.fetch(p).await.cache, "MISS", "{p} after create");
    }
    let page3 = app.fetch("/?page=3").await.body;
    assert!(
        page3.contains("Old 1") && page3.contains("Old 0"),
        "everything moved down one place"
    );

    // Deleting the oldest post changes only the last page.
    let id = app.post_id("old-0").await;
    assert_eq!(admin.delete(id).await.status().as_u16(), 303);
    assert_eq!(app.fetch("/?page=3").await.cache, "MISS");
    assert_eq!(app.fetch("/").await.cache, "HIT");
    assert_eq!(app.fetch("/?page=2").await.cache, "HIT");
    assert_eq!(app.get("/posts/old-0").await.status().as_u16(), 404);
}
both_databases!(creating_and_deleting_shift_every_later_index_page);

async fn renaming_a_slug_removes_the_old_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Rename me", "b").await;
    assert_eq!(app.fetch(&format!("/posts/{slug}")).await.cache, "MISS");
    let id = app.post_id(&slug).await;
    admin.edit(id, "Renamed", "renamed", "b", true).await;
    assert!(!app.cached(&format!("/posts/{slug}")).await);
    assert_eq!(
        app.get(&format!("/posts/{slug}")).await.status().as_u16(),
        404
    );
    // Unpublishing removes it from every public page.
    app.fetch("/posts/renamed").await;
    admin.edit(id, "Renamed", "renamed", "b", false).await;
    assert_eq!(app.get("/posts/renamed").await.status().as_u16(), 404);
    assert!(!app.fetch("/").await.body.contains("Renamed"));
}
both_databases!(renaming_a_slug_removes_the_old_page);

async fn etags_let_browsers_revalidate_with_304(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.get("/").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-cache")
    );
    for _ in 0..2 {
        let r = browser()
            .get(app.url("/"))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 304);
        assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    }
    let admin = app.login().await;
    admin.create("Changes the index", "b").await;
    let r = browser()
        .get(app.url("/"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_ne!(r.headers()["etag"].to_str().unwrap(), etag);
}
both_databases!(etags_let_browsers_revalidate_with_304);

async fn concurrent_misses_render_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin.create("Popular", &"Long body. ".repeat(2000)).await;
    let before = app.app_cache.render_count();
    let requests = (0..24).map(|_| app.fetch("/posts/popular"));
    let results = futures_util::future::join_all(requests).await;
    for Fetched {
        status,
        cache,
        body,
    } in &results
    {
        assert_eq!(*status, 200);
        assert!(cache == "MISS" || cache == "HIT");
        assert!(body.contains("Popular"));
    }
    let outcomes: Vec<&str> = results.iter().map(|r| r.cache.as_str()).collect();
    assert_eq!(
        app.app_cache.render_count() - before,
        1,
        "one render for all concurrent misses: {outcomes:?}"
    );
}
both_databases!(concurrent_misses_render_once);

/// Readers hammer the index and a post while a writer edits the post; every
/// read that starts after an edit's response must show that edit or a later one.
async fn stress(backend: Backend, two_instances: bool) {
    // Renders pause between reading the database and storing, so readers
    // overlap the writer's commit and invalidation on every edit.
    let mut options = Options::new(backend).await;
    options.render_delay_ms = 25;
    let (writer_app, reader_app) = if two_instances {
        let (a, b) = spawn_pair(options).await;
        (Arc::new(a), Arc::new(b))
    } else {
        let a = Arc::new(spawn_with(options).await);
        (a.clone(), a)
    };
    let admin = writer_app.login().await;
    admin.create("Filler", "b").await;
    let slug = admin.create("Stress v0", "version v0 end").await;
    let id = writer_app.post_id(&slug).await;

    let committed = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for r in 0..4 {
        let (committed, done, app) = (committed.clone(), done.clone(), reader_app.clone());
        let slug = slug.clone();
        readers.push(tokio::spawn(async move {
            let client = browser();
            let mut reads = 0u64;
            while !done.load(Ordering::SeqCst) {
                let floor = committed.load(Ordering::SeqCst);
                let path = if r % 2 == 0 {
                    format!("/posts/{slug}")
                } else {
                    "/".to_string()
                };
                let response = client.get(app.url(&path)).send().await.unwrap();
                assert_eq!(response.status().as_u16(), 200);
                let body = response.text().await.unwrap();
                let seen = version_in(&body).expect("page shows a version");
                assert!(
                    seen >= floor,
                    "{path} showed v{seen} after v{floor} was acknowledged"
                );
                reads += 1;
            }
            reads
        }));
    }
    for v in 1..=20u64 {
        let r = admin
            .edit(
                id,
                &format!("Stress v{v}"),
                &slug,
                &format!("version v{v} end"),
                true,
            )
            .await;
        assert_eq!(r.status().as_u16(), 303);
        committed.store(v, Ordering::SeqCst);
        // Long enough for copies in process to be served under a lease again.
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    }
    done.store(true, Ordering::SeqCst);
    let mut total = 0;
    for reader in readers {
        total += reader.await.expect("reader saw no stale page");
    }
    assert!(total > 30, "readers made {total} reads");
    let last = reader_app.fetch(&format!("/posts/{slug}")).await.body;
    assert_eq!(version_in(&last), Some(20));
}

fn version_in(body: &str) -> Option<u64> {
    crate::helpers::number_after(body, "Stress v")
}

async fn no_read_after_an_edit_shows_the_old_post(backend: Backend) {
    stress(backend, false).await;
}
both_databases!(no_read_after_an_edit_shows_the_old_post);

async fn no_read_on_a_second_instance_shows_the_old_post(backend: Backend) {
    stress(backend, true).await;
}
both_databases!(no_read_on_a_second_instance_shows_the_old_post);

async fn two_apps_with_different_prefixes_share_one_redis(backend: Backend) {
    let a = spawn_app(backend).await;
    let b = spawn_app(backend).await;
    let admin_a = a.login().await;
    admin_a.create("Only on A", "b").await;
    assert_eq!(a.fetch("/").await.cache, "MISS");
    let Fetched { cache, body, .. } = b.fetch("/").await;
    assert_eq!(cache, "MISS");
    assert!(!body.contains("Only on A"));
}
both_databases!(two_apps_with_different_prefixes_share_one_redis);

async fn a_request_after_a_write_never_joins_a_render_that_began_before_it(backend: Backend) {
    // Renders take longer than a write, so a write can land in the middle of one.
    let mut options = Options::new(backend).await;
    options.render_delay_ms = 600;
    let app = Arc::new(spawn_with(options).await);
    let admin = app.login().await;
    let slug = admin.create("Stress v1", "first").await;
    let id = app.post_id(&slug).await;
    let path = format!("/posts/{slug}");

    let slow = {
        let (app, path) = (app.clone(), path.clone());
        tokio::spawn(async move { app.fetch(&path).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let r = admin.edit(id, "Stress v2", &slug, "second", true).await;
    assert_eq!(r.status().as_u16(), 303);

    let body = app.fetch(&path).await.body;
    assert_eq!(
        version_in(&body),
        Some(2),
        "the request after the edit shows it"
    );
    let early = slow.await.unwrap().body;
    assert!(version_in(&early).is_some());
}
both_databases!(a_request_after_a_write_never_joins_a_render_that_began_before_it);
