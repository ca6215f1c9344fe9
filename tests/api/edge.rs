//! A real Varnish (with the repo's VCL and the xkey module) in front of
//! folio: pages are cached at the edge and purged as exactly as Redis.

use crate::both_databases;
use crate::helpers::{
    ADMIN_PASSWORD, ADMIN_USER, Backend, Options, TestApp, browser, spawn_with, submit_login,
};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private varnishd on a free port; `None` (with a message) when Varnish
/// is not installed.
pub(crate) struct Varnish {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
    backends: Vec<u16>,
}

impl Varnish {
    pub(crate) fn available() -> bool {
        let ok = Command::new("varnishd")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "SKIPPED: varnishd is not installed (scripts/test installs varnish and varnish-modules)"
            );
        }
        ok
    }

    pub(crate) fn new(port: u16) -> Self {
        let dir = std::env::temp_dir().join(format!("folio-test-varnish-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        Varnish {
            port,
            dir,
            child: None,
            backends: Vec::new(),
        }
    }

    /// The repo's VCL with one backend per folio port.
    fn vcl(backends: &[u16]) -> String {
        let vcl = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/varnish/default.vcl"
        ))
        .unwrap();
        let start = vcl.find("backend folio1 {").unwrap();
        let end = start + vcl[start..].find("}\n").unwrap() + 2;
        let defs: String = backends
            .iter()
            .enumerate()
            .map(|(i, port)| {
                format!(
                    "backend folio{} {{\n    .host = \"127.0.0.1\";\n    .port = \"{port}\";\n}}\n",
                    i + 1
                )
            })
            .collect();
        let adds: String = (1..=backends.len())
            .map(|i| format!("    folio.add_backend(folio{i});\n"))
            .collect();
        let vcl = format!("{}{}{}", &vcl[..start], defs, &vcl[end..]);
        vcl.replace("    folio.add_backend(folio1);\n", &adds)
    }

    pub(crate) fn start(&mut self, backends: &[u16]) {
        self.backends = backends.to_vec();
        let vcl = self.dir.join("default.vcl");
        std::fs::write(&vcl, Self::vcl(backends)).unwrap();
        let child = Command::new("varnishd")
            .args(["-F", "-j", "none", "-T", "none"])
            .arg("-n")
            .arg(self.dir.join("work"))
            .arg("-a")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("-f")
            .arg(&vcl)
            .args(["-s", "malloc,32m", "-p", "default_grace=0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("varnishd starts");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "varnishd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// GET through Varnish as a new anonymous visitor.
    async fn get(&self, path: &str) -> EdgeFetched {
        let r = browser().get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        // Varnish names two transactions on a hit: this one and the stored one.
        let hit = r
            .headers()
            .get("x-varnish")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split_whitespace().count() == 2);
        EdgeFetched {
            status,
            hit,
            body: r.text().await.unwrap(),
        }
    }
}

/// A page as a visitor behind Varnish got it.
struct EdgeFetched {
    status: u16,
    /// Served from Varnish's cache.
    hit: bool,
    body: String,
}

impl Drop for Varnish {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Two folio instances purging one Varnish that balances over both.
pub(crate) async fn stack(
    backend: Backend,
    render_delay_ms: u64,
) -> Option<(Varnish, TestApp, TestApp)> {
    if !Varnish::available() {
        return None;
    }
    let port = free_port();
    let mut options = Options::new(backend).await;
    options.edge_purge = Some(format!("http://127.0.0.1:{port}"));
    options.render_delay_ms = render_delay_ms;
    let a = spawn_with(options.clone()).await;
    let b = spawn_with(options).await;
    let mut varnish = Varnish::new(port);
    varnish.start(&[a.port(), b.port()]);
    Some((varnish, a, b))
}

/// Waits until every recorded edge purge was delivered (`/healthz`).
pub(crate) async fn purges_delivered(app: &TestApp) {
    let started = Instant::now();
    loop {
        let h: serde_json::Value = app.get("/healthz").await.json().await.unwrap();
        if h["edge"]["behind"] == 0 && h["edge"]["pending"] == 0 {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(40), "purges: {h}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads `path` through the edge until it shows `new`, failing at once if it
/// shows `old` (after a write's 303 nothing may).
async fn shows_new(varnish: &Varnish, path: &str, old: &str, new: &str) {
    for _ in 0..4 {
        let EdgeFetched { status, body, .. } = varnish.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !body.contains(old),
            "{path} served old content through the edge"
        );
        assert!(body.contains(new), "{path} shows the new content");
    }
}

async fn pages_are_cached_at_the_edge_and_every_write_purges_them(backend: Backend) {
    let Some((varnish, a, _b)) = stack(backend, 0).await else {
        return;
    };
    let admin = a.login().await;
    for i in 0..11 {
        admin.create_tagged(&format!("Edge post {i}"), "edge").await;
    }
    // Else the creates' second purges may land between the two reads below.
    purges_delivered(&a).await;
    let pages = [
        "/",
        "/?page=2",
        "/posts/edge-post-3",
        "/feed.xml",
        "/tags",
        "/tags/edge",
        "/tags/edge/feed.xml",
        "/sitemap.xml",
        "/about",
    ];
    for p in pages {
        varnish.get(p).await;
        let EdgeFetched { status, hit, .. } = varnish.get(p).await;
        assert_eq!(status, 200, "{p}");
        assert!(hit, "{p} is a Varnish hit the second time");
    }
    let r = a.get("/").await;
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("public, max-age=0, s-maxage=")
    );
    assert!(r.headers()["xkey"].to_str().unwrap().contains("/ "));
    assert!(r.headers().contains_key("surrogate-key"));
    let not_found = a.get("/tags/none").await;
    assert!(
        not_found.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );

    // Edit.
    let id = a.post_id("edge-post-3").await;
    admin
        .edit(id, "Edge post 3 renamed", "edge-post-3", "b", true)
        .await;
    shows_new(
        &varnish,
        "/posts/edge-post-3",
        "Edge post 3<",
        "Edge post 3 renamed",
    )
    .await;
    shows_new(&varnish, "/", "Edge post 3<", "Edge post 3 renamed").await;
    // Create shifts the pages.
    admin.create_tagged("Edge newest", "edge").await;
    shows_new(&varnish, "/", "\u{0}", "Edge newest").await;
    shows_new(&varnish, "/tags/edge", "\u{0}", "Edge newest").await;
    // Delete.
    let id = a.post_id("edge-newest").await;
    admin.delete(id).await;
    shows_new(&varnish, "/", "Edge newest", "Edge post 10").await;
    // Retag.
    let id = a.post_id("edge-post-9").await;
    admin
        .submit_post(
            Some(id),
            &[
                ("title", "Edge post 9"),
                ("slug", "edge-post-9"),
                ("body", "b"),
                ("tags", "moved"),
                ("published", "on"),
            ],
        )
        .await;
    shows_new(&varnish, "/tags", "\u{0}", "moved").await;
    // Settings.
    admin.settings("Edge Blog", "", "").await;
    for p in pages {
        let body = varnish.get(p).await.body;
        if !p.ends_with(".xml") {
            assert!(body.contains("Edge Blog"), "{p} after the settings change");
        }
    }
    // Scheduled go-live.
    let moment = chrono::Utc::now() + chrono::Duration::seconds(2);
    admin
        .submit_post(
            None,
            &[
                ("title", "Edge scheduled"),
                ("body", "b"),
                ("published", "on"),
                (
                    "publish_at",
                    &moment.format("%Y-%m-%dT%H:%M:%S").to_string(),
                ),
            ],
        )
        .await;
    varnish.get("/").await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    shows_new(&varnish, "/", "\u{0}", "Edge scheduled").await;

    // The admin passes through untouched: logs in and sees fresh pages.
    let client = browser();
    let edge = format!("http://localhost:{}", varnish.port);
    let r = submit_login(&client, &edge, ADMIN_USER, ADMIN_PASSWORD, "").await;
    assert_eq!(r.status().as_u16(), 303);
    let r = client.get(format!("{edge}/admin")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("csrf_token"));
    let r = client.get(format!("{edge}/")).send().await.unwrap();
    assert_eq!(
        r.headers()["x-cache"],
        "BYPASS",
        "the admin's pages are never from the edge"
    );
}
both_databases!(pages_are_cached_at_the_edge_and_every_write_purges_them);

async fn a_render_that_a_write_overtook_is_never_stored_at_the_edge(backend: Backend) {
    // Renders take 1.5 s, so the write lands inside the reader's render even
    // on a loaded machine (with 400 ms it could land after it, and then the
    // test measured how fast a purge arrives instead).
    let Some((varnish, a, _b)) = stack(backend, 1500).await else {
        return;
    };
    let admin = a.login().await;
    let slug = admin.create("Racing title", "b").await;
    let path = format!("/posts/{slug}");
    // Through Varnish, a slow render of the old post starts...
    let reader = {
        let url = varnish.url(&path);
        tokio::spawn(async move {
            browser()
                .get(url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // ...and a write overtakes it.
    let id = a.post_id(&slug).await;
    let r = admin.edit(id, "Racing title, new", &slug, "b", true).await;
    assert_eq!(r.status().as_u16(), 303);
    let _ = reader.await;
    for _ in 0..3 {
        let body = varnish.get(&path).await.body;
        assert!(
            body.contains("Racing title, new"),
            "the edge stored the overtaken render"
        );
    }
}
both_databases!(a_render_that_a_write_overtook_is_never_stored_at_the_edge);

async fn a_purge_endpoint_that_is_down_gets_its_purge_when_it_returns(backend: Backend) {
    if !Varnish::available() {
        return;
    }
    let port = free_port();
    let mut options = Options::new(backend).await;
    options.edge_purge = Some(format!("http://127.0.0.1:{port}"));
    let a = spawn_with(options).await;
    let mut varnish = Varnish::new(port);
    varnish.start(&[a.port()]);
    let admin = a.login().await;
    let slug = admin.create("Before the outage", "b").await;
    let id = a.post_id(&slug).await;
    varnish.stop();
    // Written while the edge is down: not delayed by it, and answered `202`.
    let started = Instant::now();
    let r = admin.edit(id, "During the outage", &slug, "b", true).await;
    assert_eq!(r.status().as_u16(), 202);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the write did not wait for the edge"
    );
    let health: serde_json::Value = a.get("/healthz").await.json().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let health_later: serde_json::Value = a.get("/healthz").await.json().await.unwrap();
    assert!(
        health_later["edge"]["behind"].as_i64().unwrap() > 0,
        "{health} {health_later}"
    );
    // Back: the queued purge is delivered.
    varnish.start(&[a.port()]);
    purges_delivered(&a).await;
    let body = varnish.get(&format!("/posts/{slug}")).await.body;
    assert!(body.contains("During the outage"));
}
both_databases!(a_purge_endpoint_that_is_down_gets_its_purge_when_it_returns);
