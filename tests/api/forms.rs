//! Every form, checked route by route: bytes that are not UTF-8 are `400`,
//! a missing or wrong CSRF token is `403`, and neither changes anything.

use crate::both_databases;
use crate::helpers::{Admin, Backend, PostRow, TestApp, browser, csrf_in, spawn_app};
use reqwest::Client;

/// What a refused form must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    posts: Vec<PostRow>,
    settings: Vec<(String, String)>,
    sessions: i64,
    write_seq: i64,
}

async fn snapshot(app: &TestApp) -> Snapshot {
    Snapshot {
        posts: app.post_rows().await,
        settings: app.settings_rows().await,
        sessions: app.session_count().await,
        write_seq: app.write_seq().await,
    }
}

/// An admin with a post (not live, so it has a preview link) and a cached
/// index page, which a flush or any write would remove.
async fn arrange(backend: Backend) -> (TestApp, Admin, i64) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    admin.create("Clean title", "clean body").await;
    let r = admin
        .submit_post(None, &[("title", "Draft"), ("body", "draft body")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let draft = app.post_id("draft").await;
    app.fetch("/").await;
    assert!(app.cached("/").await);
    (app, admin, draft)
}

/// Every POST route with the fields its form sends (the token is added by
/// the caller).
fn routes(id: i64) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    let post = vec![
        ("title", "Changed"),
        ("body", "changed body"),
        ("published", "on"),
    ];
    vec![
        ("/admin/posts".to_string(), post.clone()),
        (format!("/admin/posts/{id}"), post.clone()),
        // The editor's Preview button posts to the editor's own address.
        ("/admin/posts/new".to_string(), post.clone()),
        (format!("/admin/posts/{id}/edit"), post),
        (format!("/admin/posts/{id}/preview"), vec![]),
        (
            "/admin/settings".to_string(),
            vec![("title", "Changed"), ("tagline", ""), ("about", "")],
        ),
        ("/debug/cache/flush".to_string(), vec![]),
        (format!("/admin/posts/{id}/delete"), vec![]),
        ("/logout".to_string(), vec![]),
    ]
}

async fn post_raw(client: &Client, url: String, body: Vec<u8>) -> reqwest::Response {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn encode(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        s.append_pair(name, value);
    }
    s.finish().into_bytes()
}

/// The same form, spoiled four ways: a raw byte and a percent-encoded
/// invalid sequence, each in a value and in a name.
fn spoiled(fields: &[(&str, &str)], token: &str) -> Vec<Vec<u8>> {
    let mut with_token = fields.to_vec();
    with_token.push(("csrf_token", token));
    let good = encode(&with_token);
    [
        b"x=Bad \xff\xfe utf8".as_slice(),
        b"x=Bad%C3%28utf8",
        b"x\xff=1",
        b"x%FF=1",
    ]
    .iter()
    .map(|bad| [good.as_slice(), b"&", bad].concat())
    .collect()
}

async fn assert_clear_page(r: reqwest::Response, status: u16, says: &str, what: &str) {
    assert_eq!(r.status().as_u16(), status, "{what}");
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/html"),
        "{what}: an HTML page"
    );
    let page = r.text().await.unwrap();
    assert!(page.contains(says), "{what}: the page says why: {page}");
}

/// No write, no flush, no session change.
async fn assert_nothing_changed(app: &TestApp, admin: &Admin, visitor: &Client, before: Snapshot) {
    assert_eq!(snapshot(app).await, before, "nothing was written");
    assert!(app.cached("/").await, "nothing was flushed or invalidated");
    assert_eq!(
        admin.get("/admin").await.status().as_u16(),
        200,
        "still logged in"
    );
    let r = visitor.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303, "the visitor is still anonymous");
}

async fn every_form_refuses_bytes_that_are_not_utf8_and_changes_nothing(backend: Backend) {
    let (app, admin, id) = arrange(backend).await;
    let visitor = browser();
    let page = visitor.get(app.url("/login")).send().await.unwrap();
    let token = csrf_in(&page.text().await.unwrap());
    let before = snapshot(&app).await;

    for (path, fields) in routes(id) {
        for body in spoiled(&fields, &admin.csrf) {
            let r = post_raw(&admin.client, admin.url(&path), body.clone()).await;
            let what = format!("{path} {}", String::from_utf8_lossy(&body));
            assert_clear_page(r, 400, "UTF-8", &what).await;
        }
    }
    // Login, from a visitor holding a good token and the right password.
    let login = [
        ("username", crate::helpers::ADMIN_USER),
        ("password", crate::helpers::ADMIN_PASSWORD),
    ];
    for body in spoiled(&login, &token) {
        let r = post_raw(&visitor, app.url("/login"), body).await;
        assert_clear_page(r, 400, "UTF-8", "/login").await;
    }

    assert_nothing_changed(&app, &admin, &visitor, before).await;
}
both_databases!(every_form_refuses_bytes_that_are_not_utf8_and_changes_nothing);

async fn every_form_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing(backend: Backend) {
    let (app, admin, id) = arrange(backend).await;
    // A real token, but of another session.
    let visitor = browser();
    let page = visitor.get(app.url("/login")).send().await.unwrap();
    let others = csrf_in(&page.text().await.unwrap());
    assert_ne!(others, admin.csrf);
    let before = snapshot(&app).await;

    let mut routes = routes(id);
    routes.push((
        "/login".to_string(),
        vec![
            ("username", crate::helpers::ADMIN_USER),
            ("password", crate::helpers::ADMIN_PASSWORD),
        ],
    ));
    for (path, fields) in routes {
        // The login form is posted by the visitor, who holds a session and a token too.
        let (client, own) = if path == "/login" {
            (&visitor, others.as_str())
        } else {
            (&admin.client, admin.csrf.as_str())
        };
        let foreign = if path == "/login" {
            admin.csrf.as_str()
        } else {
            others.as_str()
        };
        let wrong_tokens = [
            ("another session's token", foreign.to_string()),
            ("a wrong token", "0".repeat(own.len())),
            ("an empty token", String::new()),
            ("a token one character short", own[1..].to_string()),
        ];
        for (how, token) in &wrong_tokens {
            let mut with_token = fields.clone();
            with_token.push(("csrf_token", token));
            let r = post_raw(client, app.url(&path), encode(&with_token)).await;
            assert_clear_page(r, 403, "reload the page", &format!("{path}: {how}")).await;
        }
        // The form without the field at all.
        let r = post_raw(client, app.url(&path), encode(&fields)).await;
        assert_clear_page(r, 403, "reload the page", &format!("{path}: no field")).await;
        // No form at all: no body and no content type.
        let r = client.post(app.url(&path)).send().await.unwrap();
        assert_clear_page(r, 403, "reload the page", &format!("{path}: no form")).await;
    }

    assert_nothing_changed(&app, &admin, &visitor, before).await;
}
both_databases!(every_form_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing);
