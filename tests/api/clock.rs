//! Publish times by one clock, the database's: an instance whose wall clock
//! is wrong publishes nothing early, and a form saved untouched keeps the
//! exact time it showed.

use crate::both_databases;
use crate::helpers::{
    ADMIN_PASSWORD, ADMIN_USER, Admin, Backend, Options, TestApp, browser, csrf_in,
    shared_redis_url, slug_of, spawn_app, spawn_with, submit_login,
};
use reqwest::Client;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn utc(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The value of the form's input named `name`.
fn input_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("the form has the input") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
}

/// Submits the edit form of post `id` exactly as the server filled it.
async fn save_untouched(admin: &Admin, id: i64) -> reqwest::Response {
    let form = admin
        .get(&format!("/admin/posts/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    let body_start = form.find("name=\"body\"").unwrap();
    let body = &form[body_start..];
    let body = &body[body.find(">\n").unwrap() + 2..body.find("</textarea>").unwrap()];
    let mut fields = vec![
        ("title", input_value(&form, "title")),
        ("slug", input_value(&form, "slug")),
        ("tags", input_value(&form, "tags")),
        ("publish_at", input_value(&form, "publish_at")),
        ("body", body.to_string()),
    ];
    if form.contains("name=\"published\" value=\"on\" checked") {
        fields.push(("published", "on".to_string()));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.submit_post(Some(id), &fields).await
}

async fn stored(app: &TestApp, id: i64) -> (Option<i64>, i64, i64) {
    sqlx::query_as("SELECT published_at, published, live FROM posts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn an_untouched_form_keeps_the_exact_publish_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login().await;
    // Scheduled, at a time with seconds.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let ahead = format!("{}37", tomorrow.format("%Y-%m-%dT%H:%M:"));
    let r = admin
        .submit_post(
            None,
            &[
                ("title", "Scheduled"),
                ("body", "Later."),
                ("published", "on"),
                ("publish_at", &ahead),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let scheduled = app.post_id(&slug_of(&r)).await;
    let before = stored(&app, scheduled).await;
    assert_eq!((before.1, before.2), (1, 0), "scheduled");
    assert_eq!(
        save_untouched(&admin, scheduled).await.status().as_u16(),
        303
    );
    assert_eq!(
        stored(&app, scheduled).await,
        before,
        "same time, still scheduled"
    );

    // Back-dated, unpublished, then republished through the form.
    let r = admin
        .submit_post(
            None,
            &[
                ("title", "Older"),
                ("body", "Then."),
                ("published", "on"),
                ("publish_at", "2026-01-02T03:04:37"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let older = app.post_id(&slug_of(&r)).await;
    let dated = stored(&app, older).await.0;
    let r = admin
        .submit_post(Some(older), &[("title", "Older"), ("body", "Then.")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(stored(&app, older).await, (dated, 0, 0), "unpublished");
    let form = admin.get(&format!("/admin/posts/{older}/edit")).await;
    let form = form.text().await.unwrap();
    assert_eq!(input_value(&form, "publish_at"), "2026-01-02T03:04:37");
    let republished = admin
        .submit_post(
            Some(older),
            &[
                ("title", "Older"),
                ("body", "Then."),
                ("published", "on"),
                ("publish_at", &input_value(&form, "publish_at")),
            ],
        )
        .await;
    assert_eq!(republished.status().as_u16(), 303);
    assert_eq!(
        stored(&app, older).await,
        (dated, 1, 1),
        "same date, same place"
    );
}
both_databases!(an_untouched_form_keeps_the_exact_publish_time);

/// `folio serve` under `faketime`, its wall clock `offset` ahead; stopped
/// when dropped.
struct Skewed {
    child: Child,
    address: String,
}

impl Drop for Skewed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Skewed {
    fn start(options: &Options, offset: &str) -> Skewed {
        let child = Command::new("faketime")
            .args(["-f", offset, env!("CARGO_BIN_EXE_folio"), "serve"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            // A wall clock that is wrong; the monotonic one is not.
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("DATABASE_URL", &options.database_url)
            .env("REDIS_URL", shared_redis_url())
            .env("FOLIO_CACHE_PREFIX", &options.prefix)
            .env("FOLIO_BASE_URL", "https://blog.example.com")
            .env("FOLIO_SESSION_KEY", "k".repeat(64))
            .env("FOLIO_BIND", "127.0.0.1:0")
            .env("FOLIO_WORKERS", "2")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("faketime is installed (scripts/test installs it)");
        // Owned at once, so a failure below still stops it.
        let mut skewed = Skewed {
            child,
            address: String::new(),
        };
        let (tx, rx) = mpsc::channel();
        let stdout = skewed.child.stdout.take().unwrap();
        std::thread::spawn(move || {
            // Read to the end: a closed pipe would fail the server's log writes.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let marker = "listening on http://127.0.0.1:";
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("folio starts under faketime");
            if let Some(at) = line.find(marker) {
                let port: String = line[at + marker.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                skewed.address = format!("http://localhost:{port}");
                return skewed;
            }
        }
    }
}

/// The admin, logged in through `base`: the client and its CSRF token.
async fn admin_at(base: &str) -> (Client, String) {
    let client = browser();
    let r = submit_login(&client, base, ADMIN_USER, ADMIN_PASSWORD, "").await;
    assert_eq!(r.status().as_u16(), 303);
    let page = client.get(format!("{base}/admin")).send().await.unwrap();
    let csrf = csrf_in(&page.text().await.unwrap());
    (client, csrf)
}

async fn schedule(base: &str, (client, csrf): &(Client, String), title: &str, at: &str) -> String {
    let r = client
        .post(format!("{base}/admin/posts"))
        .form(&[
            ("title", title),
            ("body", "Under embargo."),
            ("published", "on"),
            ("publish_at", at),
            ("csrf_token", csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{title}");
    slug_of(&r)
}

async fn status(base: &str, path: &str) -> u16 {
    browser()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// PostgreSQL only: with SQLite the database is a file on one host, and its
/// clock is that host's, shared by every instance on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_clock_is_300_s_fast_publishes_nothing_early() {
    let options = Options::new(Backend::Postgres).await;
    let right = spawn_with(options.clone()).await;
    let fast = Skewed::start(&options, "+300s");
    let instances = [right.address.clone(), fast.address.clone()];
    let through_fast = admin_at(&fast.address).await;
    let through_right = admin_at(&right.address).await;

    let in_90_s = utc(chrono::Utc::now() + chrono::Duration::seconds(90));
    let embargoed = [
        schedule(&fast.address, &through_fast, "Embargo via fast", &in_90_s).await,
        schedule(
            &right.address,
            &through_right,
            "Embargo via right",
            &in_90_s,
        )
        .await,
    ];
    // Whole seconds: the form sends the time to the second, so the post is
    // due at exactly this moment, not up to a second before it.
    let moment =
        chrono::Timelike::with_nanosecond(&(chrono::Utc::now() + chrono::Duration::seconds(8)), 0)
            .unwrap();
    let soon = schedule(&fast.address, &through_fast, "Soon", &utc(moment)).await;

    // Until the moment, many scheduler passes on each instance: nothing is
    // public anywhere. A response is held to that only if it arrived before
    // the moment (a loaded machine may finish a round after it).
    let mut looks = 0;
    while chrono::Utc::now() < moment {
        for base in &instances {
            for slug in embargoed.iter().chain([&soon]) {
                let got = status(base, &format!("/posts/{slug}")).await;
                if slug != &soon || chrono::Utc::now() < moment {
                    assert_eq!(got, 404, "{slug} on {base}");
                }
            }
            let index = browser().get(format!("{base}/")).send().await.unwrap();
            let index = index.text().await.unwrap();
            let early = chrono::Utc::now() < moment;
            assert!(!index.contains("Embargo"), "{base}");
            assert!(!(early && index.contains("Soon")), "{base}");
        }
        looks += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(looks >= 2, "looked {looks} times");

    // The near one goes live by the database's clock; the others wait.
    let live_by = moment + chrono::Duration::seconds(2);
    tokio::time::sleep((live_by - chrono::Utc::now()).to_std().unwrap_or_default()).await;
    for base in &instances {
        assert_eq!(status(base, &format!("/posts/{soon}")).await, 200, "{base}");
        for slug in &embargoed {
            assert_eq!(
                status(base, &format!("/posts/{slug}")).await,
                404,
                "{slug} on {base}"
            );
        }
    }
}
