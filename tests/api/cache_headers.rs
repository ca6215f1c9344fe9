//! Each kind of answer keeps its `Cache-Control`, now that one middleware
//! writes every one from the policy its response carries.

use crate::both_databases;
use crate::helpers::{Backend, spawn_app};

fn cache_control(r: &reqwest::Response) -> String {
    r.headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn every_kind_of_answer_keeps_its_cache_control(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Headers", "b").await;
    let post = format!("/posts/{slug}");

    let visitor = [
        (post.as_str(), 200, "no-cache"),
        ("/", 200, "no-cache"),
        ("/feed.xml", 200, "no-cache"),
        ("/posts/no-such-post", 404, "no-store"),
        ("/?page=x", 404, "no-store"),
        ("/nowhere", 404, "no-store"),
        ("/robots.txt", 200, "public, max-age=86400"),
        ("/healthz", 200, "no-store"),
        ("/metrics", 200, "no-store"),
        ("/login", 200, "no-store"),
        ("/admin", 303, "private, no-store"),
        ("/static/nope.css", 404, "private, no-store"),
    ];
    for (path, status, expected) in visitor {
        // Twice: the second answer of a page is a hit from the copies.
        for _ in 0..2 {
            let r = app.get(path).await;
            assert_eq!(r.status().as_u16(), status, "{path}");
            assert_eq!(cache_control(&r), expected, "{path}");
        }
    }
    let asset = app.get("/static/css/site.css").await;
    assert_eq!(cache_control(&asset), "public, max-age=31536000, immutable");

    for path in [post.as_str(), "/admin", "/debug/cache", "/debug/cache.json"] {
        let r = admin.get(path).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(
            cache_control(&r),
            "private, no-store",
            "{path} as the admin"
        );
    }
    let put = admin.client.put(app.url(&post)).send().await.unwrap();
    assert_eq!(put.status().as_u16(), 405);
    assert_eq!(cache_control(&put), "private, no-store");
    let refused = admin
        .client
        .post(app.url("/admin/settings"))
        .form(&[("title", "t"), ("csrf_token", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(cache_control(&refused), "no-store");
}
both_databases!(every_kind_of_answer_keeps_its_cache_control);
