//! The edge's promise under load: readers go through a real Varnish (the
//! repo's VCL) in front of two instances with slowed renders while the admin
//! edits, and after each write's `303` no response that started after it may
//! show an older version. And a write whose purge the edge did not confirm
//! does not answer `303` at all.

use crate::both_databases;
use crate::edge::{Varnish, free_port, purges_delivered, stack};
use crate::helpers::{Backend, Options, TestApp, browser, spawn_with};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Edits per run: enough for the old race (purges sent before the lease
/// wait ended) to show in nearly every run, few enough to stay short.
const EDITS: u32 = 15;
/// Time between edits, for the edge to fill again with the current version.
const SETTLE: Duration = Duration::from_millis(300);
const TAG: &str = "race";
const MARK: &str = "Race edition ";

fn title(version: u32) -> String {
    format!("{MARK}{version} done")
}

/// The oldest version a page shows (a page may show the title several times).
fn version_in(body: &str) -> Option<u32> {
    body.match_indices(MARK)
        .filter_map(|(at, _)| {
            let digits: String = body[at + MARK.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .min()
}

/// One read through the edge.
struct Read {
    path: String,
    started: Instant,
    status: u16,
    version: Option<u32>,
}

/// Reads `path` through the edge, as a new anonymous visitor each time,
/// until told to stop.
fn reader(
    varnish: &Varnish,
    path: String,
    stop: Arc<AtomicBool>,
    reads: Arc<Mutex<Vec<Read>>>,
) -> tokio::task::JoinHandle<()> {
    let url = varnish.url(&path);
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let (status, version) = match client.get(&url).send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    (status, version_in(&r.text().await.unwrap_or_default()))
                }
                Err(_) => (0, None),
            };
            reads.lock().unwrap().push(Read {
                path: path.clone(),
                started,
                status,
                version,
            });
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

async fn readers_through_the_edge_never_see_an_acknowledged_write_undone(backend: Backend) {
    let Some((varnish, a, _b)) = stack(backend, 100).await else {
        return;
    };
    let admin = a.login().await;
    let slug = admin.create_tagged(&title(0), TAG).await;
    let id = a.post_id(&slug).await;
    let paths = [
        format!("/posts/{slug}"),
        "/".to_string(),
        format!("/tags/{TAG}"),
        format!("/tags/{TAG}/feed.xml"),
        "/feed.xml".to_string(),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(Mutex::new(Vec::new()));
    let readers: Vec<_> = paths
        .iter()
        .map(|p| reader(&varnish, p.clone(), stop.clone(), reads.clone()))
        .collect();

    // When each version was acknowledged.
    let mut acked = Vec::new();
    for version in 1..=EDITS {
        tokio::time::sleep(SETTLE).await;
        let new_title = title(version);
        let r = admin
            .submit_post(
                Some(id),
                &[
                    ("title", new_title.as_str()),
                    ("slug", slug.as_str()),
                    ("body", "words"),
                    ("tags", TAG),
                    ("published", "on"),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303, "edit {version} answers 303");
        acked.push((Instant::now(), version));
    }
    // Until every page was read at least once after the last 303.
    let last = acked[acked.len() - 1].0;
    let waited = Instant::now();
    while waited.elapsed() < Duration::from_secs(30) {
        let done = {
            let reads = reads.lock().unwrap();
            paths
                .iter()
                .all(|p| reads.iter().any(|r| &r.path == p && r.started > last))
        };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }

    let reads = std::mem::take(&mut *reads.lock().unwrap());
    let mut checked = 0;
    let mut stale = Vec::new();
    for read in &reads {
        assert_eq!(read.status, 200, "{} through the edge", read.path);
        let version = read.version.expect("every page shows the post");
        // The newest version acknowledged before this read started.
        let Some(&(at, expected)) = acked.iter().rev().find(|(at, _)| *at <= read.started) else {
            continue;
        };
        checked += 1;
        if version < expected {
            stale.push(format!(
                "{} showed v{version} {} ms after the 303 of v{expected}",
                read.path,
                (read.started - at).as_millis()
            ));
        }
    }
    for path in &paths {
        assert!(
            reads.iter().any(|r| &r.path == path && r.started > last),
            "{path} was read after the last write"
        );
    }
    assert!(
        stale.is_empty(),
        "{} of {checked} reads after a 303 were stale: {:?}",
        stale.len(),
        &stale[..stale.len().min(10)]
    );
}
both_databases!(readers_through_the_edge_never_see_an_acknowledged_write_undone);

/// The answer to a write whose purge the edge did not confirm: `202`, no
/// `Location`, a page that says so and links on.
async fn assert_unconfirmed(r: reqwest::Response, link: &str, what: &str) {
    assert_eq!(r.status().as_u16(), 202, "{what} with the edge down");
    assert!(r.headers().get("location").is_none(), "{what}: no redirect");
    let body = r.text().await.unwrap();
    assert!(body.contains("Your change is saved"), "{what}: {body}");
    assert!(
        body.contains("has not confirmed the purge"),
        "{what}: {body}"
    );
    assert!(body.contains(&format!("href=\"{link}\"")), "{what}: {body}");
}

async fn healthz_edge(app: &TestApp) -> serde_json::Value {
    let h: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
    h["edge"].clone()
}

async fn a_write_the_edge_did_not_confirm_does_not_answer_303(backend: Backend) {
    if !Varnish::available() {
        return;
    }
    // Nothing listens there yet: every purge is refused.
    let port = free_port();
    let mut options = Options::new(backend).await;
    options.edge_purge = Some(format!("http://127.0.0.1:{port}"));
    let a = spawn_with(options).await;
    let admin = a.login().await;

    let fields = |title: &'static str| {
        [
            ("title", title),
            ("slug", "unconfirmed"),
            ("body", "words"),
            ("tags", TAG),
            ("published", "on"),
        ]
    };
    let r = admin.submit_post(None, &fields("Unconfirmed one")).await;
    assert_unconfirmed(r, "/posts/unconfirmed", "a create").await;
    let id = a.post_id("unconfirmed").await;
    let r = admin
        .submit_post(Some(id), &fields("Unconfirmed two"))
        .await;
    assert_unconfirmed(r, "/posts/unconfirmed", "an edit").await;
    // Saved all the same, and served as saved.
    assert!(
        a.get("/posts/unconfirmed")
            .await
            .text()
            .await
            .unwrap()
            .contains("Unconfirmed two")
    );
    let r = admin.settings("Unconfirmed Blog", "", "").await;
    assert_unconfirmed(r, "/admin/settings", "a settings change").await;
    let r = admin
        .submit_post(
            None,
            &[("title", "Spare"), ("body", "b"), ("published", "on")],
        )
        .await;
    assert_unconfirmed(r, "/posts/spare", "a second create").await;
    let r = admin.delete(a.post_id("spare").await).await;
    assert_unconfirmed(r, "/admin", "a delete").await;
    let edge = healthz_edge(&a).await;
    assert!(edge["behind"].as_i64().unwrap() > 0, "{edge}");

    // The endpoint comes back: every purge is delivered by the retries.
    let mut varnish = Varnish::new(port);
    varnish.start(&[a.port()]);
    purges_delivered(&a).await;
    // And a write the edge confirms answers 303 again.
    let r = admin
        .submit_post(Some(id), &fields("Unconfirmed three"))
        .await;
    assert_eq!(r.status().as_u16(), 303, "an edit with the edge back");
    assert!(
        browser()
            .get(varnish.url("/posts/unconfirmed"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("Unconfirmed three")
    );
}
both_databases!(a_write_the_edge_did_not_confirm_does_not_answer_303);
