//! The admin's and visitors' browser: cookies kept, redirects not followed,
//! forms sent with the page's CSRF token.

use super::{ADMIN_PASSWORD, ADMIN_USER, TestApp, slug_of};
use reqwest::{Client, Response, redirect::Policy};
use std::time::Duration;

/// A browser: keeps cookies, does not follow redirects.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has a csrf token") + marker.len();
    html[start..start + 64].to_string()
}

/// Loads the login form with `client` (for its CSRF token) and submits it.
pub async fn submit_login(
    client: &Client,
    base: &str,
    username: &str,
    password: &str,
    next: &str,
) -> Response {
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client
        .post(format!("{base}/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &csrf_in(&page)),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

pub struct Admin {
    pub client: Client,
    pub csrf: String,
    base: String,
}

impl Admin {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &self.csrf));
        self.client
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Creates a published post; returns its slug.
    pub async fn create(&self, title: &str, body: &str) -> String {
        let r = self
            .post_form(
                "/admin/posts",
                &[("title", title), ("body", body), ("published", "on")],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "create answers 303");
        r.headers()["location"]
            .to_str()
            .unwrap()
            .trim_start_matches("/posts/")
            .to_string()
    }

    pub async fn edit(
        &self,
        id: i64,
        title: &str,
        slug: &str,
        body: &str,
        published: bool,
    ) -> Response {
        let mut fields = vec![("title", title), ("slug", slug), ("body", body)];
        if published {
            fields.push(("published", "on"));
        }
        self.post_form(&format!("/admin/posts/{id}"), &fields).await
    }

    /// Submits the post form with any fields; answers as the server did.
    pub async fn submit_post(&self, id: Option<i64>, fields: &[(&str, &str)]) -> Response {
        let path = id.map_or_else(
            || "/admin/posts".to_string(),
            |id| format!("/admin/posts/{id}"),
        );
        self.post_form(&path, fields).await
    }

    /// Creates a published post with tags; returns its slug.
    pub async fn create_tagged(&self, title: &str, tags: &str) -> String {
        let r = self
            .submit_post(
                None,
                &[
                    ("title", title),
                    ("body", "words"),
                    ("tags", tags),
                    ("published", "on"),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "create answers 303");
        slug_of(&r)
    }

    pub async fn settings(&self, title: &str, tagline: &str, about: &str) -> Response {
        self.post_form(
            "/admin/settings",
            &[("title", title), ("tagline", tagline), ("about", about)],
        )
        .await
    }

    /// The panel's JSON.
    pub async fn panel(&self) -> serde_json::Value {
        self.get("/debug/cache.json").await.json().await.unwrap()
    }

    pub async fn delete(&self, id: i64) -> Response {
        self.post_form(&format!("/admin/posts/{id}/delete"), &[])
            .await
    }
}

impl TestApp {
    pub async fn login(&self) -> Admin {
        self.login_as(ADMIN_USER, ADMIN_PASSWORD)
            .await
            .expect("admin logs in")
    }

    pub async fn login_as(&self, username: &str, password: &str) -> Result<Admin, Response> {
        let client = browser();
        let r = submit_login(&client, &self.address, username, password, "").await;
        if r.status().as_u16() != 303 {
            return Err(r);
        }
        let admin_page = client
            .get(self.url("/admin"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_in(&admin_page);
        Ok(Admin {
            client,
            csrf,
            base: self.address.clone(),
        })
    }
}
