use crate::both_databases;
use crate::helpers::{Backend, Fetched, spawn_app, x_cache};

async fn the_index_lists_published_posts_newest_first_ten_a_page(backend: Backend) {
    // Arrange
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    for i in 1..=12 {
        admin
            .create(&format!("Post number {i:02}"), "Some *text*.")
            .await;
    }
    let draft = admin
        .post_form("/admin/posts", &[("title", "Secret draft"), ("body", "x")])
        .await;
    assert_eq!(draft.status().as_u16(), 303);

    // Act
    let first = app.fetch("/").await;
    let second = app.fetch("/?page=2").await;
    let third = app.fetch("/?page=3").await;

    // Assert
    let (page1, page2) = (&first.body, &second.body);
    assert_eq!(first.status, 200);
    assert!(page1.find("Post number 12").unwrap() < page1.find("Post number 03").unwrap());
    assert!(!page1.contains("Post number 02"), "page 1 holds ten posts");
    assert!(page1.contains("href=\"/?page=2\""));
    assert_eq!(second.status, 200);
    assert!(page2.contains("Post number 02") && page2.contains("Post number 01"));
    assert!(!page2.contains("Post number 03"));
    assert!(page2.contains("href=\"/\""), "page 2 links back to page 1");
    assert_eq!(third.status, 404, "pages past the last do not exist");
    assert!(!page1.contains("Secret draft") && !page2.contains("Secret draft"));
}
both_databases!(the_index_lists_published_posts_newest_first_ten_a_page);

async fn malformed_page_values_never_answer_5xx(backend: Backend) {
    let app = spawn_app(backend).await;
    for query in [
        "?page=-1",
        "?page=abc",
        "?page=0",
        "?page=99999999999999999999999",
        "?page=1e9",
        "?page=%00",
        "?page=%ff%fe",
        "?page=2147483648",
        "?page=",
        "?page",
        "?page=1&page=x",
        "?%zz=1",
        "?page=4294967296",
    ] {
        let r = app.get(&format!("/{query}")).await;
        let status = r.status().as_u16();
        assert!(status == 200 || status == 404, "{query} answered {status}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{query}"
        );
    }
}
both_databases!(malformed_page_values_never_answer_5xx);

async fn a_post_page_renders_markdown_and_neutralises_scripts(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let body = "# Heading\n\n- item\n\n```rust\nfn main() {}\n```\n\n<script>alert('body')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(2))\n";
    let slug = admin
        .create("<script>alert('title')</script> Title", body)
        .await;

    let Fetched {
        status, body: html, ..
    } = app.fetch(&format!("/posts/{slug}")).await;

    assert_eq!(status, 200);
    assert!(html.contains("<h1>Heading</h1>"));
    assert!(html.contains("<li>item</li>"));
    assert!(html.contains("<code class=\"language-rust\">"));
    assert!(!html.contains("<script>alert"), "no script survives");
    assert!(
        html.contains("&lt;script&gt;alert(&#x27;title&#x27;)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;")
    );
    assert!(!html.contains("onerror"));
    assert!(!html.contains("javascript:"));
}
both_databases!(a_post_page_renders_markdown_and_neutralises_scripts);

async fn unknown_posts_get_an_html_404(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/posts/nope",
        "/posts/Not%20A%20Slug",
        "/nothing/here",
        "/posts/",
        "/admin/posts/abc/edit",
    ] {
        let r = app.get(path).await;
        assert_eq!(
            r.status().as_u16(),
            if path.starts_with("/admin") { 303 } else { 404 },
            "{path}"
        );
        if !path.starts_with("/admin") {
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
            assert!(r.text().await.unwrap().contains("Page not found"));
        }
    }
}
both_databases!(unknown_posts_get_an_html_404);

async fn drafts_are_hidden_from_visitors_but_shown_to_the_admin(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let r = admin
        .post_form(
            "/admin/posts",
            &[("title", "Draft one"), ("body", "hidden words")],
        )
        .await;
    let slug = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/posts/")
        .to_string();

    assert_eq!(
        app.get(&format!("/posts/{slug}")).await.status().as_u16(),
        404
    );
    let seen = admin.get(&format!("/posts/{slug}")).await;
    assert_eq!(seen.status().as_u16(), 200);
    assert!(seen.text().await.unwrap().contains("hidden words"));
    let feed = app.fetch("/feed.xml").await.body;
    assert!(!feed.contains("Draft one"));
}
both_databases!(drafts_are_hidden_from_visitors_but_shown_to_the_admin);

async fn the_feed_uses_the_configured_base_url_never_the_host_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Feed me", "Feed *body*").await;

    let r = crate::helpers::browser()
        .get(app.url("/feed.xml"))
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .send()
        .await
        .unwrap();

    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let xml = r.text().await.unwrap();
    assert!(xml.starts_with("<?xml"));
    assert!(xml.contains(&format!("https://blog.example.com/posts/{slug}")));
    assert!(
        xml.contains("&lt;em&gt;body&lt;/em&gt;"),
        "content is escaped HTML"
    );
    assert!(!xml.contains("evil.example"));
}
both_databases!(the_feed_uses_the_configured_base_url_never_the_host_header);

async fn head_requests_answer_like_get_without_a_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin.create("Headed", "b").await;
    let client = crate::helpers::browser();
    for path in [
        "/",
        "/posts/headed",
        "/feed.xml",
        "/login",
        "/healthz",
        "/static/css/site.css",
    ] {
        let r = client.head(app.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        if path == "/" || path == "/feed.xml" || path == "/posts/headed" {
            assert!(!x_cache(&r).is_empty());
        }
        assert!(r.text().await.unwrap().is_empty());
    }
    // Other methods on a post page are refused, not routed elsewhere.
    let r = client.post(app.url("/posts/headed")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
}
both_databases!(head_requests_answer_like_get_without_a_body);

async fn static_files_are_served_with_long_lived_cache_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.get("/static/css/site.css").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert_eq!(app.get("/static/nope.css").await.status().as_u16(), 404);
    assert_eq!(
        app.get("/static/../Cargo.toml").await.status().as_u16(),
        404
    );
}
both_databases!(static_files_are_served_with_long_lived_cache_headers);

async fn healthz_reports_database_and_redis(backend: Backend) {
    let app = spawn_app(backend).await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status().as_u16(), 200);
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(json["database"]["up"], true);
    assert_eq!(json["redis"]["up"], true);
}
both_databases!(healthz_reports_database_and_redis);
