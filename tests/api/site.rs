//! The site's name, about page, tags, neighbours and sitemap, and exactly
//! which cached pages each kind of write removes.

use crate::both_databases;
use crate::helpers::{
    Backend, Fetched, Options, spawn_app, spawn_pair, spawn_without_rewarm, x_cache,
};

async fn every_new_route_misses_then_hits_and_404s_are_never_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin.create_tagged("Tagged one", "Rust, Web  Dev").await;
    for path in [
        "/tags",
        "/tags/rust",
        "/tags/web-dev/feed.xml",
        "/about",
        "/sitemap.xml",
    ] {
        assert_eq!(x_cache(&admin.get(path).await), "BYPASS", "{path}");
        assert_eq!(app.fetch(path).await.cache, "MISS", "{path}");
        let Fetched { status, cache, .. } = app.fetch(path).await;
        assert_eq!((status, cache.as_str()), (200, "HIT"), "{path}");
    }
    for path in [
        "/tags/nope",
        "/tags/nope/feed.xml",
        "/tags/rust?page=2",
        "/tags/Bad%20Tag",
    ] {
        let status = app.fetch(path).await.status;
        assert_eq!(status, 404, "{path}");
        assert!(!app.cached(path).await, "{path} is never stored");
    }
    let post = app.fetch("/posts/tagged-one").await.body;
    assert!(post.contains("href=\"/tags/rust\"") && post.contains("href=\"/tags/web-dev\""));
    let feed = app.fetch("/tags/rust/feed.xml").await.body;
    assert!(feed.contains("<category term=\"rust\""), "{feed}");
}
both_databases!(every_new_route_misses_then_hits_and_404s_are_never_stored);

async fn invalid_tags_and_settings_answer_422_with_the_input_kept_and_change_nothing(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let r = admin
        .submit_post(
            None,
            &[
                ("title", "Bad tags"),
                ("body", "b"),
                ("tags", "ok, c++"),
                ("published", "on"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("c++") && html.contains("Bad tags"),
        "input kept"
    );
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let r = admin
        .submit_post(
            None,
            &[
                ("title", "Many"),
                ("body", "b"),
                ("tags", &eleven.join(",")),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let r = admin
        .submit_post(
            None,
            &[
                ("title", "When"),
                ("body", "b"),
                ("publish_at", "next week"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(app.post_count().await, 0, "nothing was written");

    let r = admin.settings("", "t", "a").await;
    assert_eq!(r.status().as_u16(), 422);
    let r = admin.settings(&"x".repeat(101), "kept tagline", "a").await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("kept tagline"));
    let home = app.fetch("/").await.body;
    assert!(home.contains(">folio<"), "the title is unchanged");
}
both_databases!(invalid_tags_and_settings_answer_422_with_the_input_kept_and_change_nothing);

async fn a_new_title_reaches_every_cached_page_on_both_instances(backend: Backend) {
    let (a, b) = spawn_pair(Options::new(backend).await).await;
    let admin = a.login().await;
    for i in 0..12 {
        admin.create_tagged(&format!("Post {i}"), "rust").await;
    }
    let pages = [
        "/",
        "/?page=2",
        "/posts/post-3",
        "/feed.xml",
        "/tags",
        "/tags/rust",
        "/tags/rust?page=2",
        "/tags/rust/feed.xml",
        "/about",
        "/sitemap.xml",
    ];
    for p in pages {
        a.fetch(p).await;
        b.fetch(p).await;
    }
    let r = admin
        .settings("The Renamed Blog", "Fresh tagline", "All about it")
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/admin/settings");
    for p in pages {
        for app in [&a, &b] {
            let Fetched { status, body, .. } = app.fetch(p).await;
            assert_eq!(status, 200, "{p}");
            if p != "/sitemap.xml" {
                assert!(body.contains("The Renamed Blog"), "{p} shows the new title");
            }
            assert!(!body.contains(">folio<"), "{p} shows no old title");
        }
    }
    let feed = a.fetch("/feed.xml").await.body;
    assert!(feed.contains("<subtitle>Fresh tagline</subtitle>"));
    let about = b.fetch("/about").await.body;
    assert!(about.contains("All about it"));
    // The other instance may apply the same row again between the commit
    // and its confirmation, and log it as "settings (applied later)".
    let log = admin.panel().await["invalidations"].clone();
    assert!(
        log[0]["cause"]
            .as_str()
            .is_some_and(|c| c.starts_with("settings")),
        "the log names the cause: {log}"
    );
}
both_databases!(a_new_title_reaches_every_cached_page_on_both_instances);

async fn the_admin_pages_and_the_login_form_carry_the_site_title(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let id = app.post_id(&admin.create("A post", "Body").await).await;
    let r = admin.settings("Notes from the Shed", "", "").await;
    assert_eq!(r.status().as_u16(), 303);
    let header = r#"<a class="site-title" href="/">Notes from the Shed</a>"#;
    let edit = format!("/admin/posts/{id}/edit");
    for path in [
        "/admin",
        "/admin/posts/new",
        edit.as_str(),
        "/admin/settings",
        "/debug/cache",
    ] {
        let body = admin.get(path).await.text().await.unwrap();
        assert!(body.contains(header), "{path} carries the site title");
    }
    // A form sent back with errors keeps the stored title, not the input.
    let r = admin.settings("", "", "").await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains(header));
    let login = app.get("/login").await.text().await.unwrap();
    assert!(
        login.contains(header),
        "the login form carries the site title"
    );
}
both_databases!(the_admin_pages_and_the_login_form_carry_the_site_title);

async fn posts_link_their_neighbours_and_a_rename_reaches_them(backend: Backend) {
    let app = spawn_without_rewarm(backend).await;
    let admin = app.login().await;
    for t in ["First", "Second", "Third", "Fourth"] {
        admin.create(t, "b").await;
    }
    let second = app.fetch("/posts/second").await.body;
    assert!(second.contains("href=\"/posts/first\"") && second.contains("href=\"/posts/third\""));
    app.fetch("/posts/fourth").await;
    let id = app.post_id("first").await;
    assert_eq!(
        admin
            .edit(id, "First, renamed", "first", "b", true)
            .await
            .status()
            .as_u16(),
        303
    );
    let Fetched {
        cache,
        body: second,
        ..
    } = app.fetch("/posts/second").await;
    assert_eq!(cache, "MISS", "the neighbour's page was removed");
    assert!(second.contains("First, renamed"));
    assert_eq!(
        app.fetch("/posts/fourth").await.cache,
        "HIT",
        "not a neighbour: untouched"
    );

    // Deleting the middle post makes its neighbours each other's.
    let id = app.post_id("third").await;
    app.fetch("/posts/fourth").await;
    assert_eq!(admin.delete(id).await.status().as_u16(), 303);
    let fourth = app.fetch("/posts/fourth").await.body;
    assert!(fourth.contains("href=\"/posts/second\""), "{fourth}");
}
both_databases!(posts_link_their_neighbours_and_a_rename_reaches_them);

async fn retagging_removes_the_old_and_new_tag_pages_and_nothing_else(backend: Backend) {
    let app = spawn_without_rewarm(backend).await;
    let admin = app.login().await;
    admin.create_tagged("Moved", "old").await;
    admin.create_tagged("Stays", "old, other").await;
    admin.create_tagged("Elsewhere", "new").await;
    admin.create_tagged("Untouched", "zzz").await;
    let watched = [
        "/tags/old",
        "/tags/new",
        "/tags",
        "/tags/zzz",
        "/tags/zzz/feed.xml",
        "/posts/untouched",
    ];
    for p in watched {
        app.fetch(p).await;
    }
    let id = app.post_id("moved").await;
    let r = admin
        .submit_post(
            Some(id),
            &[
                ("title", "Moved"),
                ("slug", "moved"),
                ("body", "words"),
                ("tags", "new"),
                ("published", "on"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let Fetched {
        cache, body: old, ..
    } = app.fetch("/tags/old").await;
    assert_eq!(cache, "MISS");
    assert!(!old.contains("/posts/moved") && old.contains("/posts/stays"));
    let Fetched {
        cache, body: new, ..
    } = app.fetch("/tags/new").await;
    assert_eq!(cache, "MISS");
    assert!(new.contains("/posts/moved"));
    assert_eq!(app.fetch("/tags").await.cache, "MISS");
    for p in ["/tags/zzz", "/tags/zzz/feed.xml", "/posts/untouched"] {
        assert_eq!(app.fetch(p).await.cache, "HIT", "{p} was not touched");
    }
    // The last post of a tag gone: its page is a 404, never stored.
    let id = app.post_id("elsewhere").await;
    admin.delete(id).await;
    let id = app.post_id("moved").await;
    admin.delete(id).await;
    assert_eq!(app.fetch("/tags/new").await.status, 404);
    assert!(!app.cached("/tags/new").await);
}
both_databases!(retagging_removes_the_old_and_new_tag_pages_and_nothing_else);

async fn the_sitemap_and_sharing_metadata_use_the_configured_origin(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin.create_tagged("Hello world", "rust").await;
    let r = app.get("/sitemap.xml").await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("xml")
    );
    let sitemap = r.text().await.unwrap();
    for loc in [
        "https://blog.example.com/",
        "https://blog.example.com/posts/hello-world",
        "https://blog.example.com/tags",
        "https://blog.example.com/tags/rust",
        "https://blog.example.com/about",
    ] {
        assert!(sitemap.contains(&format!("<loc>{loc}</loc>")), "{loc}");
    }
    assert!(sitemap.contains("<lastmod>"));
    let post = app.fetch("/posts/hello-world").await.body;
    assert!(post.contains("rel=\"canonical\" href=\"https://blog.example.com/posts/hello-world\""));
    assert!(
        post.contains("property=\"og:url\" content=\"https://blog.example.com/posts/hello-world\"")
    );
    assert!(post.contains("property=\"og:title\" content=\"Hello world\""));
    assert!(post.contains("min read"));
    let robots = app.get("/robots.txt").await.text().await.unwrap();
    assert!(robots.contains("Sitemap: https://blog.example.com/sitemap.xml"));
}
both_databases!(the_sitemap_and_sharing_metadata_use_the_configured_origin);
