use crate::both_databases;
use crate::helpers::{Backend, Fetched, assert_redirect_to, spawn_app};

async fn post_count(app: &crate::helpers::TestApp) -> i64 {
    app.post_count().await
}

async fn the_admin_creates_edits_and_deletes_a_post(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;

    // Create: the slug comes from the title.
    let r = admin
        .post_form(
            "/admin/posts",
            &[
                ("title", "Hello, World!"),
                ("body", "First."),
                ("published", "on"),
            ],
        )
        .await;
    assert_redirect_to(&r, "/posts/hello-world");
    let list = admin.get("/admin").await.text().await.unwrap();
    assert!(list.contains("Hello, World!"));

    // A second post with the same title gets a free slug.
    let r = admin
        .post_form(
            "/admin/posts",
            &[
                ("title", "Hello, World!"),
                ("body", "Again."),
                ("published", "on"),
            ],
        )
        .await;
    assert_redirect_to(&r, "/posts/hello-world-2");

    // Edit: new title and slug.
    let id = app.post_id("hello-world").await;
    let form = admin
        .get(&format!("/admin/posts/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("value=\"hello-world\""));
    let r = admin
        .edit(id, "Hello again", "hello-again", "Second.", true)
        .await;
    assert_redirect_to(&r, "/posts/hello-again");
    let Fetched {
        status, body: html, ..
    } = app.fetch("/posts/hello-again").await;
    assert_eq!(status, 200);
    assert!(html.contains("Hello again") && html.contains("Second."));
    assert_eq!(app.get("/posts/hello-world").await.status().as_u16(), 404);

    // Delete.
    let r = admin.delete(id).await;
    assert_redirect_to(&r, "/admin");
    assert_eq!(app.get("/posts/hello-again").await.status().as_u16(), 404);
    assert_eq!(post_count(&app).await, 1);
}
both_databases!(the_admin_creates_edits_and_deletes_a_post);

async fn invalid_posts_re_render_the_form_with_422_and_keep_the_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin.create("Taken", "x").await;
    let long_title = "t".repeat(201);
    let big_body = "b".repeat(256 * 1024 + 1);
    let long_slug = "a".repeat(101);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("title", ""), ("body", "kept body")],
            "title is required",
        ),
        (
            vec![("title", "   "), ("body", "kept body")],
            "title is required",
        ),
        (
            vec![("title", &long_title), ("body", "kept body")],
            "the limit is 200",
        ),
        (
            vec![
                ("title", "Fine"),
                ("slug", "Bad Slug!"),
                ("body", "kept body"),
            ],
            "lowercase letters",
        ),
        (
            vec![
                ("title", "Fine"),
                ("slug", &long_slug),
                ("body", "kept body"),
            ],
            "lowercase letters",
        ),
        (
            vec![("title", "Fine"), ("slug", "taken"), ("body", "kept body")],
            "already used",
        ),
        (vec![("title", "Fine"), ("body", &big_body)], "256 KiB"),
    ];
    for (fields, message) in cases {
        let r = admin.post_form("/admin/posts", &fields).await;
        assert_eq!(r.status().as_u16(), 422, "{message}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(message),
            "{message}: {}",
            &html[..html.len().min(3000)]
        );
        if !message.contains("256") {
            assert!(html.contains("kept body"), "the input is kept");
        }
    }
    assert_eq!(post_count(&app).await, 1, "nothing was written");

    // The same rules on edit.
    let id = app.post_id("taken").await;
    let r = admin.edit(id, "", "taken", "body", true).await;
    assert_eq!(r.status().as_u16(), 422);
}
both_databases!(invalid_posts_re_render_the_form_with_422_and_keep_the_input);

/// The start tag of the element with `id="{id}"`.
fn tag_with_id<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!(" id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element has id {id}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// Each message sits right under its field in `<p class="field-error"
/// id="{field}-error">`, and the field is marked invalid and described by it
/// (its help and count still named too); fields without an error are not.
async fn errors_sit_under_their_field_and_are_tied_to_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin.create("Taken", "x").await;

    let r = admin
        .post_form(
            "/admin/posts",
            &[
                ("title", "  "),
                ("body", "kept body"),
                ("tags", "rust, c++"),
                ("publish_at", "soon"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    for (field, described_by, message) in [
        ("title", "title-error title-count", "The title is required."),
        ("tags", "tags-error tags-help", "c++"),
        ("publish_at", "publish_at-error publish-at-help", "soon"),
    ] {
        let input = tag_with_id(&html, field);
        assert!(input.contains(" aria-invalid=\"true\""), "{input}");
        assert!(
            input.contains(&format!(" aria-describedby=\"{described_by}\"")),
            "{input}"
        );
        let error = format!("<p class=\"field-error\" id=\"{field}-error\">");
        let at = html.find(&error).unwrap_or_else(|| panic!("{error}"));
        assert!(html[at..].split("</p>").next().unwrap().contains(message));
        // Right under the field: nothing but whitespace between them.
        let after_input = html.find(input).unwrap() + input.len();
        assert_eq!(html[after_input..at].trim(), "", "{field}");
    }
    for (field, described_by) in [("slug", "slug-help"), ("body", "body-help")] {
        let input = tag_with_id(&html, field);
        assert!(!input.contains("aria-invalid"), "{input}");
        assert!(
            input.contains(&format!(" aria-describedby=\"{described_by}\"")),
            "{input}"
        );
        assert!(!html.contains(&format!("id=\"{field}-error\"")));
    }
    assert!(html.contains("kept body"));

    // A rule the write path checks (a slug in use) lands under its field too.
    let id = app.post_id("taken").await;
    let r = admin
        .submit_post(None, &[("title", "Other"), ("slug", "taken")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(tag_with_id(&html, "slug").contains("aria-describedby=\"slug-error slug-help\""));
    assert!(tag_with_id(&html, "slug-error").starts_with("<p class=\"field-error\""));
    assert!(!tag_with_id(&html, "title").contains("aria-invalid"));
    let r = admin.edit(id, "", "taken", "body", true).await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(tag_with_id(&html, "title").contains("aria-invalid=\"true\""));

    // The settings form does the same.
    let r = admin.settings("", &"t".repeat(201), "").await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    for field in ["title", "tagline"] {
        let input = tag_with_id(&html, field);
        assert!(input.contains("aria-invalid=\"true\""), "{input}");
        assert!(
            input.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{input}"
        );
        assert!(tag_with_id(&html, &format!("{field}-error")).contains("field-error"));
    }
    let about = tag_with_id(&html, "about");
    assert!(about.contains("aria-describedby=\"about-help\"") && !about.contains("aria-invalid"));
    assert!(html.contains("the limit") || html.contains("at most 200"));
}
both_databases!(errors_sit_under_their_field_and_are_tied_to_it);

async fn oversized_bodies_answer_413_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = admin
        .post_form("/admin/posts", &[("title", "Huge"), ("body", &huge)])
        .await;
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(post_count(&app).await, 0);
}
both_databases!(oversized_bodies_answer_413_and_change_nothing);

async fn writes_without_the_csrf_token_are_forbidden_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Keep me", "original").await;
    let id = app.post_id(&slug).await;

    let bad = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let client = admin.client.clone();
        let url = admin.url(&path);
        async move {
            client
                .post(url)
                .form(&fields)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        bad("/admin/posts".into(), vec![("title", "New"), ("body", "x")]).await,
        403
    );
    assert_eq!(
        bad(
            format!("/admin/posts/{id}"),
            vec![("title", "Changed"), ("body", "x"), ("csrf_token", "nope")]
        )
        .await,
        403
    );
    assert_eq!(bad(format!("/admin/posts/{id}/delete"), vec![]).await, 403);
    assert_eq!(bad("/debug/cache/flush".into(), vec![]).await, 403);

    assert_eq!(post_count(&app).await, 1);
    let html = app.fetch(&format!("/posts/{slug}")).await.body;
    assert!(html.contains("Keep me") && html.contains("original"));
}
both_databases!(writes_without_the_csrf_token_are_forbidden_and_change_nothing);

async fn unknown_post_ids_answer_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    assert_eq!(
        admin.get("/admin/posts/999/edit").await.status().as_u16(),
        404
    );
    assert_eq!(
        admin.get("/admin/posts/abc/edit").await.status().as_u16(),
        404
    );
    assert_eq!(
        admin.edit(999, "T", "", "b", true).await.status().as_u16(),
        404
    );
    assert_eq!(admin.delete(999).await.status().as_u16(), 404);
    let r = admin
        .post_form("/admin/posts/99999999999999999999999/delete", &[])
        .await;
    assert_eq!(r.status().as_u16(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}
both_databases!(unknown_post_ids_answer_404);

async fn forms_that_are_not_utf8_answer_400_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let slug = admin.create("Clean title", "b").await;
    let id = app.post_id(&slug).await;
    let token = admin.csrf.clone();
    let bodies: Vec<Vec<u8>> = vec![
        format!("title=Bad%C3%28utf8&body=b&published=on&csrf_token={token}").into_bytes(),
        [
            b"title=Bad \xff\xfe utf8&body=b&published=on&csrf_token=".as_slice(),
            token.as_bytes(),
        ]
        .concat(),
    ];
    for path in [
        "/admin/posts".to_string(),
        format!("/admin/posts/{id}"),
        "/admin/settings".to_string(),
        "/login".to_string(),
    ] {
        for body in &bodies {
            let r = admin
                .client
                .post(admin.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 400, "{path}");
            assert!(
                r.text().await.unwrap().contains("UTF-8"),
                "{path}: a clear answer"
            );
        }
    }
    assert_eq!(post_count(&app).await, 1, "nothing was created");
    let post = app.fetch(&format!("/posts/{slug}")).await.body;
    assert!(post.contains("Clean title") && !post.contains('\u{fffd}'));
    let home = app.fetch("/").await.body;
    assert!(home.contains(">folio<"), "the settings are unchanged");
}
both_databases!(forms_that_are_not_utf8_answer_400_and_change_nothing);
