use crate::both_databases;
use crate::helpers::{
    ADMIN_PASSWORD, ADMIN_USER, Backend, assert_redirect_to, browser, csrf_in, spawn_app,
    submit_login,
};

async fn anonymous_admin_requests_are_sent_to_login(backend: Backend) {
    let app = spawn_app(backend).await;
    for (path, next) in [
        ("/admin", "%2Fadmin"),
        ("/admin/posts/new", "%2Fadmin%2Fposts%2Fnew"),
        ("/debug/cache", "%2Fdebug%2Fcache"),
    ] {
        assert_redirect_to(&app.get(path).await, &format!("/login?next={next}"));
    }
    let r = browser()
        .post(app.url("/admin/posts"))
        .form(&[("title", "x")])
        .send()
        .await
        .unwrap();
    assert_redirect_to(&r, "/login?next=%2Fadmin");
    let r = browser()
        .get(app.url("/debug/cache.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
}
both_databases!(anonymous_admin_requests_are_sent_to_login);

async fn login_sends_the_admin_to_a_local_next_only(backend: Backend) {
    let app = spawn_app(backend).await;
    for (next, expected) in [
        ("/admin/posts/new", "/admin/posts/new"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ] {
        let r = submit_login(&browser(), &app.address, ADMIN_USER, ADMIN_PASSWORD, next).await;
        assert_redirect_to(&r, expected);
    }
}
both_databases!(login_sends_the_admin_to_a_local_next_only);

async fn a_wrong_password_answers_401_with_the_form(backend: Backend) {
    let app = spawn_app(backend).await;
    for (user, password) in [(ADMIN_USER, "wrong"), ("nobody", ADMIN_PASSWORD), ("", "")] {
        let r = app
            .login_as(user, password)
            .await
            .err()
            .expect("login fails");
        assert_eq!(r.status().as_u16(), 401);
        let html = r.text().await.unwrap();
        assert!(html.contains("Wrong username or password"));
        assert!(html.contains("name=\"password\""));
    }
}
both_databases!(a_wrong_password_answers_401_with_the_form);

async fn login_without_the_csrf_token_is_forbidden(backend: Backend) {
    let app = spawn_app(backend).await;
    let client = browser();
    client.get(app.url("/login")).send().await.unwrap();
    for token in [
        "",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let r = client
            .post(app.url("/login"))
            .form(&[
                ("username", ADMIN_USER),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
    }
    // Still anonymous.
    assert_eq!(
        client
            .get(app.url("/admin"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        303
    );
}
both_databases!(login_without_the_csrf_token_is_forbidden);

async fn repeated_failures_are_throttled_with_429(backend: Backend) {
    let app = spawn_app(backend).await;
    for _ in 0..5 {
        assert_eq!(
            app.login_as(ADMIN_USER, "nope")
                .await
                .err()
                .unwrap()
                .status()
                .as_u16(),
            401
        );
    }
    let r = app
        .login_as(ADMIN_USER, ADMIN_PASSWORD)
        .await
        .err()
        .expect("throttled even with the right password");
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.text().await.unwrap().contains("wait a few minutes"));
    // Another username from the same address is not affected.
    assert_eq!(
        app.login_as("someone-else", "nope")
            .await
            .err()
            .unwrap()
            .status()
            .as_u16(),
        401
    );
}
both_databases!(repeated_failures_are_throttled_with_429);

async fn session_cookies_are_http_only_lax_and_secure_for_https(backend: Backend) {
    let app = spawn_app(backend).await; // base URL is https://…
    let r = app.get("/login").await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("folio_session="));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Secure"));
}
both_databases!(session_cookies_are_http_only_lax_and_secure_for_https);

async fn a_session_cookie_replayed_after_logout_is_anonymous(backend: Backend) {
    let app = spawn_app(backend).await;
    // Capture the session cookie by logging in with a client whose cookies we see.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login_page = client.get(app.url("/login")).send().await.unwrap();
    let pre = login_page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = csrf_in(&login_page.text().await.unwrap());
    let r = client
        .post(app.url("/login"))
        .header("cookie", &pre)
        .form(&[
            ("username", ADMIN_USER),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let session = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(session, pre, "the session id is renewed at login");
    let admin_page = client
        .get(app.url("/admin"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(admin_page.status().as_u16(), 200);
    let csrf = csrf_in(&admin_page.text().await.unwrap());

    // Act
    let out = client
        .post(app.url("/logout"))
        .header("cookie", &session)
        .form(&[("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_redirect_to(&out, "/");

    // Assert: the old cookie no longer opens anything.
    let replay = client
        .get(app.url("/admin"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_redirect_to(&replay, "/login?next=%2Fadmin");
    let replay = client
        .post(app.url("/admin/posts"))
        .header("cookie", &session)
        .form(&[("title", "x"), ("body", "y"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 303);
    assert_eq!(app.post_count().await, 0);
}
both_databases!(a_session_cookie_replayed_after_logout_is_anonymous);

async fn logout_without_the_csrf_token_is_forbidden(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    let r = admin
        .client
        .post(admin.url("/logout"))
        .form(&[("csrf_token", "bad")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        admin.get("/admin").await.status().as_u16(),
        200,
        "still logged in"
    );
}
both_databases!(logout_without_the_csrf_token_is_forbidden);

async fn a_post_with_no_form_at_all_is_refused_like_a_wrong_token(
    backend: crate::helpers::Backend,
) {
    let app = crate::helpers::spawn_app(backend).await;
    let admin = app.login().await;
    for path in [
        "/logout",
        "/admin/posts",
        "/admin/settings",
        "/debug/cache/flush",
    ] {
        let r = admin.client.post(admin.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path}");
    }
    // Still logged in: nothing changed.
    assert_eq!(admin.get("/admin").await.status().as_u16(), 200);
}
crate::both_databases!(a_post_with_no_form_at_all_is_refused_like_a_wrong_token);
