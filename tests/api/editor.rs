//! The editor: its Preview button renders the unsaved input with the
//! sanitizer of published posts and changes nothing; the title's count.

use crate::both_databases;
use crate::helpers::{Backend, PostRow, TestApp, browser, spawn_app};

/// What a preview must leave as it was: the posts, the write sequence, the
/// invalidation log and the cached pages.
async fn state(app: &TestApp, admin: &crate::helpers::Admin) -> (Vec<PostRow>, i64, usize) {
    let posts = app.post_rows().await;
    let seq = app.write_seq().await;
    let invalidations = admin.panel().await["invalidations"]
        .as_array()
        .unwrap()
        .len();
    (posts, seq, invalidations)
}

const BODY: &str = "## Heading\n\nSome *emphasis*.\n\n<script>alert('x')</script>\n\n\
    <a href=\"javascript:alert(1)\" onclick=\"alert(2)\">link</a>\n\n\
    ```rust\nfn main() {}\n```\n";

async fn the_preview_shows_the_sanitized_body_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Already here", "saved body").await;
    let id = app.post_id(&slug).await;
    for path in ["/", &format!("/posts/{slug}")] {
        app.fetch(path).await;
        assert!(app.cached(path).await, "{path} is cached");
    }
    let before = state(&app, &admin).await;

    let fields = [
        ("title", "  Unsaved <em>title</em>  "),
        ("body", BODY),
        ("tags", "rust, c++"),
        ("published", "on"),
    ];
    for path in [
        "/admin/posts/new".to_string(),
        format!("/admin/posts/{id}/edit"),
    ] {
        let r = admin.post_form(&path, &fields).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(r.headers()["cache-control"], "private, no-store");
        let html = r.text().await.unwrap();
        let start = html.find("id=\"preview\"").expect("a preview pane");
        let form = html.find("<form class=\"form form--editor\"").unwrap();
        let pane = &html[start..form];
        // Rendered as a saved post is: Markdown, highlighting, sanitizing.
        assert!(pane.contains("<h2>Heading</h2>"), "{pane}");
        assert!(pane.contains("<em>emphasis</em>"), "{pane}");
        assert!(pane.contains("hl-"), "code is highlighted: {pane}");
        assert!(!pane.contains("<script"), "{pane}");
        assert!(
            !pane.contains("javascript:") && !pane.contains("onclick"),
            "{pane}"
        );
        // The title is text, escaped, not markup.
        assert!(
            pane.contains(">Unsaved &lt;em&gt;title&lt;/em&gt;<"),
            "{pane}"
        );
        // The input is kept as typed, and the form still saves where it did.
        assert!(html.contains("value=\"rust, c++\""));
        assert!(
            html.contains("&lt;script&gt;alert(&#x27;x&#x27;)"),
            "the body is kept"
        );
        let action = if path.ends_with("/new") {
            "/admin/posts".to_string()
        } else {
            format!("/admin/posts/{id}")
        };
        assert!(html.contains(&format!("action=\"{action}\"")), "{path}");
        assert!(
            html.contains(&format!("formaction=\"{path}#preview\"")),
            "{path}"
        );
    }

    assert_eq!(state(&app, &admin).await, before, "nothing was written");
    for path in ["/", &format!("/posts/{slug}")] {
        assert!(app.cached(path).await, "{path} is still cached");
    }
    let page = app.fetch(&format!("/posts/{slug}")).await.body;
    assert!(page.contains("saved body") && !page.contains("Unsaved"));
}
both_databases!(the_preview_shows_the_sanitized_body_and_changes_nothing);

async fn the_preview_needs_a_login_a_token_and_a_known_post(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let fields = [("title", "T"), ("body", "b")];

    // A visitor is sent to log in, as everywhere under /admin.
    let r = browser()
        .post(app.url("/admin/posts/new"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    // Without the CSRF token, or with a wrong one: 403, nothing rendered.
    for token in [None, Some("0".repeat(admin.csrf.len()))] {
        let mut form = fields.to_vec();
        if let Some(token) = &token {
            form.push(("csrf_token", token));
        }
        let r = admin
            .client
            .post(admin.url("/admin/posts/new"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "{token:?}");
        assert!(!r.text().await.unwrap().contains("id=\"preview\""));
    }

    let r = admin.post_form("/admin/posts/999/edit", &fields).await;
    assert_eq!(r.status().as_u16(), 404);
}
both_databases!(the_preview_needs_a_login_a_token_and_a_known_post);

/// The count is rendered by the server (the script only keeps it current),
/// counts characters of the trimmed title as validation does, and is tied
/// to the title.
async fn the_title_shows_its_character_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let html = admin.get("/admin/posts/new").await.text().await.unwrap();
    assert!(html.contains(">0 / 200</p>"), "an empty title");
    assert!(html.contains("aria-describedby=\"title-count\""));
    assert!(html.contains("src=\"/static/js/editor.js?v="));

    let slug = admin.create(" Héllo, wörld ", "x").await;
    let id = app.post_id(&slug).await;
    let html = admin
        .get(&format!("/admin/posts/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"title-count\""));
    assert!(html.contains(">12 / 200</p>"), "characters, not bytes");

    let long = "é".repeat(201);
    let r = admin
        .post_form("/admin/posts", &[("title", &long), ("body", "x")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("field-count--over"));
    assert!(html.contains(">201 / 200</p>"));

    let r = app.get("/static/js/editor.js").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
}
both_databases!(the_title_shows_its_character_count);
