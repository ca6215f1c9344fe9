//! Search: ranking, snippets and escaping, hostile queries, what is never
//! found, freshness after every kind of write on two instances,
//! pagination, and the per-client limit.

use crate::both_databases;
use crate::helpers::{Backend, Options, TestApp, slug_of, spawn_app, spawn_pair};
use std::time::{Duration, Instant};

/// `/search?q=…` (and `&page=N` when given) as an anonymous visitor.
async fn search(app: &TestApp, q: &str, page: Option<u32>) -> (u16, String) {
    let mut url = format!("/search?q={}", urlencoding(q));
    if let Some(n) = page {
        url.push_str(&format!("&page={n}"));
    }
    let r = app.get(&url).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn urlencoding(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

/// The result titles of a search page, in order.
fn titles(html: &str) -> Vec<String> {
    html.split("<h2 class=\"summary__title\"><a href=\"")
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find('>')? + 1;
            let end = rest.find("</a>")?;
            Some(rest[start..end].to_string())
        })
        .collect()
}

async fn a_title_match_ranks_above_a_body_match_with_marked_escaped_snippets(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin
        .create(
            "Body only",
            "A quokka sleeps here, between other words.\n\n```\n<script>alert(\"x\")</script>\n```\n",
        )
        .await;
    admin
        .create("Quokka facts", "Nothing about the animal.")
        .await;
    admin.create("Unrelated", "Words of another kind.").await;

    let r = app.get("/search?q=quokka").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert!(r.headers().get("x-cache").is_none(), "never cached");
    let html = r.text().await.unwrap();
    assert_eq!(titles(&html), ["Quokka facts", "Body only"], "{html}");
    assert!(html.contains("<mark>quokka</mark> sleeps"), "{html}");

    let (status, html) = search(&app, "alert", None).await;
    assert_eq!(status, 200);
    assert_eq!(titles(&html), ["Body only"]);
    assert!(html.contains("&lt;script&gt;<mark>alert</mark>"), "{html}");
    assert!(!html.contains("<script>"), "the body injects nothing");

    // A query holding HTML is searched as words ("b" is one) and shown escaped.
    let (status, html) = search(&app, "<b>quokka</b>", None).await;
    assert_eq!(status, 200);
    assert!(titles(&html).is_empty());
    assert!(!html.contains("<b>quokka"), "the query injects nothing");
    assert!(html.contains("&lt;b&gt;quokka"), "{html}");
    let (_, html) = search(&app, "<quokka>", None).await;
    assert_eq!(titles(&html), ["Quokka facts", "Body only"]);
    // Every word must be there; tags count too.
    assert!(titles(&search(&app, "quokka unrelated", None).await.1).is_empty());
}
both_databases!(a_title_match_ranks_above_a_body_match_with_marked_escaped_snippets);

async fn hostile_queries_are_searched_as_words_and_never_fail(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin
        .create("Near and far", "Words: café, 日本語, العربية and more.")
        .await;
    let long = "near ".repeat(2_000);
    let hostile = [
        "\"",
        "\"near",
        "near*",
        "-near",
        "title:near",
        "NEAR(near far)",
        "near AND far",
        "near OR far",
        "(near",
        ")",
        "^ + : * \" ' ; --",
        "🦀",
        "日本語",
        "العربية",
        "café",
        long.as_str(),
        "'); DROP TABLE posts; --",
    ];
    for q in hostile {
        let (status, html) = search(&app, q, None).await;
        assert_eq!(status, 200, "{q:?}");
        assert!(html.contains("id=\"search-q\""), "{q:?}: the form is shown");
    }
    for q in ["日本語", "العربية", "café", "near far", "NEAR(near far)"] {
        assert_eq!(
            titles(&search(&app, q, None).await.1),
            ["Near and far"],
            "{q}"
        );
    }
    assert!(search(&app, "🦀", None).await.1.contains("No results"));
    // Only the first 200 characters are used: "far" after them is ignored.
    let (_, html) = search(&app, &format!("{}far", "x ".repeat(100)), None).await;
    assert!(html.contains("No results"));

    let bad = app.get("/search?q=%FF%FEnear").await;
    assert_eq!(bad.status().as_u16(), 400);
    let empty = app.get("/search").await;
    assert_eq!(empty.status().as_u16(), 200);
    let html = empty.text().await.unwrap();
    assert!(html.contains("id=\"search-q\"") && !html.contains("No results"));
    // Every public page has the search box, with a label.
    for page in ["/", "/tags", "/about", "/posts/near-and-far"] {
        let html = app.fetch(page).await.body;
        assert!(
            html.contains("action=\"/search\"") && html.contains("for=\"site-search-q\""),
            "{page}"
        );
    }
}
both_databases!(hostile_queries_are_searched_as_words_and_never_fail);

fn utc_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

async fn drafts_and_scheduled_posts_are_found_only_once_live(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let draft = admin
        .submit_post(None, &[("title", "Draft wombat"), ("body", "wombat")])
        .await;
    assert_eq!(draft.status().as_u16(), 303);
    let scheduled = admin
        .submit_post(
            None,
            &[
                ("title", "Scheduled wombat"),
                ("body", "wombat"),
                ("published", "on"),
                ("publish_at", &utc_in(3)),
            ],
        )
        .await;
    assert_eq!(scheduled.status().as_u16(), 303);
    assert!(titles(&search(&app, "wombat", None).await.1).is_empty());
    // The admin's own search shows visitors' results too.
    let html = admin.get("/search?q=wombat").await.text().await.unwrap();
    assert!(titles(&html).is_empty());

    let started = Instant::now();
    loop {
        let found = titles(&search(&app, "wombat", None).await.1);
        if found == ["Scheduled wombat"] {
            break;
        }
        assert!(found.is_empty(), "{found:?}");
        assert!(started.elapsed() < Duration::from_secs(10), "goes live");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
both_databases!(drafts_and_scheduled_posts_are_found_only_once_live);

async fn every_write_is_seen_by_the_next_search_on_every_instance(backend: Backend) {
    let (a, b) = spawn_pair(Options::new(backend).await).await;
    let admin = a.login().await;
    let r = admin
        .submit_post(
            None,
            &[
                ("title", "Original aardvark"),
                ("body", "The first version."),
                ("tags", "alpha"),
                ("published", "on"),
            ],
        )
        .await;
    let slug = slug_of(&r);
    let id = a.post_id(&slug).await;
    for app in [&a, &b] {
        assert_eq!(
            titles(&search(app, "aardvark", None).await.1),
            ["Original aardvark"]
        );
        assert_eq!(
            titles(&search(app, "alpha", None).await.1),
            ["Original aardvark"]
        );
    }

    let r = admin
        .submit_post(
            Some(id),
            &[
                ("title", "Renamed pangolin"),
                ("body", "The second version."),
                ("tags", "beta"),
                ("published", "on"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for app in [&a, &b] {
        let (_, html) = search(app, "pangolin", None).await;
        assert_eq!(titles(&html), ["Renamed pangolin"]);
        assert!(html.contains("/tags/beta"), "its tags as they are now");
        assert!(titles(&search(app, "aardvark", None).await.1).is_empty());
        assert!(titles(&search(app, "alpha", None).await.1).is_empty());
        assert!(titles(&search(app, "first", None).await.1).is_empty());
        let (_, html) = search(app, "second", None).await;
        assert!(html.contains("The <mark>second</mark> version"), "{html}");
        assert_eq!(
            titles(&search(app, "beta", None).await.1),
            ["Renamed pangolin"]
        );
    }

    // Unpublished: gone; published again: back.
    let r = admin
        .submit_post(Some(id), &[("title", "Renamed pangolin"), ("body", "x")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(titles(&search(&b, "pangolin", None).await.1).is_empty());

    let r = admin.delete(id).await;
    assert_eq!(r.status().as_u16(), 303);
    for app in [&a, &b] {
        assert!(titles(&search(app, "pangolin", None).await.1).is_empty());
    }
}
both_databases!(every_write_is_seen_by_the_next_search_on_every_instance);

async fn results_come_ten_a_page_and_a_page_past_the_last_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    for i in 1..=12 {
        admin
            .create(&format!("Lemur note {i}"), "About lemurs.")
            .await;
    }
    let (status, first) = search(&app, "lemur", None).await;
    assert_eq!(status, 200);
    assert_eq!(titles(&first).len(), 10);
    assert!(first.contains("Page 1 of 2"));
    assert!(
        first.contains("href=\"/search?q=lemur&amp;page=2\"")
            || first.contains("href=\"/search?q=lemur&page=2\"")
    );
    let (status, second) = search(&app, "lemur", Some(2)).await;
    assert_eq!(status, 200);
    let mut all = titles(&first);
    all.extend(titles(&second));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 12, "every post once: {all:?}");
    assert_eq!(search(&app, "lemur", Some(3)).await.0, 404);
    assert_eq!(
        app.get("/search?q=lemur&page=abc").await.status().as_u16(),
        404
    );
    assert_eq!(
        app.get("/search?q=lemur&page=0").await.status().as_u16(),
        404
    );
    assert_eq!(search(&app, "absent", Some(2)).await.0, 404);
}
both_databases!(results_come_ten_a_page_and_a_page_past_the_last_is_404);

async fn a_burst_of_searches_from_one_client_gets_429_with_retry_after(backend: Backend) {
    let app = spawn_app(backend).await;
    // Far more at once than the burst the limit allows (twice the rate).
    let requests = (0..100).map(|i| status_and_retry(&app, format!("/search?q=word{i}")));
    let answers = futures_util::future::join_all(requests).await;
    let limited: Vec<_> = answers.iter().filter(|(s, _)| *s == 429).collect();
    assert!(!limited.is_empty(), "some are refused");
    for (_, retry_after) in limited {
        let secs: u64 = retry_after.as_deref().unwrap().parse().unwrap();
        assert!(secs >= 1);
    }
    assert!(answers.iter().all(|(s, _)| *s == 200 || *s == 429));
    assert_eq!(
        app.get("/").await.status().as_u16(),
        200,
        "pages are not limited"
    );
}
both_databases!(a_burst_of_searches_from_one_client_gets_429_with_retry_after);

/// GET `path` as a visitor: its status and `Retry-After`.
async fn status_and_retry(app: &TestApp, path: String) -> (u16, Option<String>) {
    let r = app.get(&path).await;
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), retry)
}
