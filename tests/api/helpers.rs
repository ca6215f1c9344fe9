//! Starts folio on a random port with its own database and Redis key prefix,
//! and drives it over HTTP as a browser would.

use folio::config::Settings;
use folio::startup::Application;
use reqwest::{Client, Response, redirect::Policy};
use secrecy::SecretString;
use sqlx::{AnyConnection, Connection, Executor};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub const ADMIN_USER: &str = "editor";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per database.
#[macro_export]
macro_rules! both_databases {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

pub fn shared_redis_url() -> String {
    std::env::var("FOLIO_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// The server's URL without a database; scripts/test creates this role.
fn postgres_base() -> String {
    std::env::var("FOLIO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://folio_test:folio_test@127.0.0.1:5432".to_string())
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A fresh, empty database of the given kind.
pub async fn fresh_database(backend: Backend) -> String {
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("folio-test-{}.db", unique()));
            format!("sqlite://{}?mode=rwc", path.display())
        }
        Backend::Postgres => {
            let name = format!("folio_test_{}", unique());
            let mut conn = AnyConnection::connect(&format!("{}/folio_test", postgres_base()))
                .await
                .expect("PostgreSQL is reachable");
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .await
                .expect("can create a database");
            format!("{}/{name}", postgres_base())
        }
    }
}

#[derive(Clone)]
pub struct Options {
    pub database_url: String,
    pub redis_url: String,
    pub prefix: String,
    pub redis_timeout_ms: u64,
    pub invalidation_timeout_ms: u64,
    pub render_delay_ms: u64,
    /// Re-warm stale pages after a write (the default, as in production);
    /// tests of exactly which pages a write removes turn it off to see MISSes.
    pub rewarm: bool,
    /// `FOLIO_EDGE_PURGE`.
    pub edge_purge: Option<String>,
}

impl Options {
    pub async fn new(backend: Backend) -> Self {
        Options {
            database_url: fresh_database(backend).await,
            redis_url: shared_redis_url(),
            prefix: format!("test-{}:", unique()),
            redis_timeout_ms: 250,
            invalidation_timeout_ms: 1000,
            render_delay_ms: 0,
            rewarm: true,
            edge_purge: None,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub prefix: String,
    pub redis_url: String,
    pub app_cache: folio::cache::PageCache,
    pub db: folio::db::Db,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_with(Options::new(backend).await).await
}

/// An instance that does not re-warm, to observe which pages a write removed.
pub async fn spawn_without_rewarm(backend: Backend) -> TestApp {
    let mut options = Options::new(backend).await;
    options.rewarm = false;
    spawn_with(options).await
}

/// Two instances on one database, one Redis and one prefix, as in production.
pub async fn spawn_pair(options: Options) -> (TestApp, TestApp) {
    let first = spawn_with(options.clone()).await;
    (first, spawn_with(options).await)
}

pub async fn spawn_with(options: Options) -> TestApp {
    let mut settings = Settings::from_env_and_defaults();
    settings.bind = "127.0.0.1:0".to_string();
    settings.database_url = options.database_url.clone();
    settings.redis_url = options.redis_url.clone();
    settings.cache_prefix = options.prefix.clone();
    settings.base_url = Some("https://blog.example.com".to_string());
    settings.session_key = Some(SecretString::from("k".repeat(64)));
    settings.admin_username = Some(ADMIN_USER.to_string());
    settings.admin_password = Some(SecretString::from(ADMIN_PASSWORD));
    settings.redis_timeout_ms = options.redis_timeout_ms;
    settings.invalidation_timeout_ms = options.invalidation_timeout_ms;
    settings.render_delay_ms = options.render_delay_ms;
    settings.edge_purge = options.edge_purge.clone();
    settings.rewarm = if options.rewarm { "on" } else { "off" }.to_string();
    settings.workers = Some(2);
    let app = Application::build(settings).await.expect("folio starts");
    let port = app.port();
    let app_cache = app.cache();
    let db = app.db();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://localhost:{port}"),
        prefix: options.prefix,
        redis_url: options.redis_url,
        app_cache,
        db,
    }
}

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

/// The number right after `marker` in `body` (`Stress v12` gives 12): how
/// the stress tests read which write a page shows.
pub fn number_after(body: &str, marker: &str) -> Option<u64> {
    let start = body.find(marker)? + marker.len();
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .ok()
}

/// The slug a create or edit redirected to.
pub fn slug_of(response: &Response) -> String {
    response.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/posts/")
        .to_string()
}

pub fn assert_redirect_to(response: &Response, location: &str) {
    assert_eq!(
        response.status().as_u16(),
        303,
        "expected a 303 to {location}"
    );
    assert_eq!(response.headers()["location"], location);
}

/// A page as an anonymous visitor got it.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    /// The `x-cache` header (`HIT`, `MISS`, …), empty when absent.
    pub cache: String,
    pub body: String,
}

pub fn x_cache(response: &Response) -> String {
    response
        .headers()
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// GET as a new anonymous visitor.
    pub async fn get(&self, path: &str) -> Response {
        browser()
            .get(self.url(path))
            .send()
            .await
            .expect("request succeeds")
    }

    /// GET as a new anonymous visitor, read whole.
    pub async fn fetch(&self, path: &str) -> Fetched {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        let cache = x_cache(&r);
        Fetched {
            status,
            cache,
            body: r.text().await.unwrap(),
        }
    }

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

    pub async fn post_id(&self, slug: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM posts WHERE slug = $1")
            .bind(slug)
            .fetch_one(&self.db)
            .await
            .expect("post exists")
    }

    /// Does the page's key exist in Redis?
    pub async fn cached(&self, path: &str) -> bool {
        let mut conn = self.redis().await;
        redis::cmd("EXISTS")
            .arg(format!("{}view/{path}", self.prefix))
            .query_async::<i64>(&mut conn)
            .await
            .unwrap()
            == 1
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis_url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Waits until this instance uses the cache again (after a fault).
    pub async fn wait_until_cache_in_use(&self) {
        for _ in 0..100 {
            if self.app_cache.usable() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the cache did not come back");
    }
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

/// A private redis-server on a free port, for tests that stop, pause or
/// restart Redis without disturbing the others.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
    /// Where a persistent one keeps its snapshot.
    dir: Option<std::path::PathBuf>,
    /// The primary's port, for a replica.
    primary: Option<u16>,
}

impl PrivateRedis {
    pub fn start() -> Self {
        Self::launch(false, None)
    }

    /// One that loads its snapshot (taken with `SAVE`) when restarted, as a
    /// Redis with RDB persistence does after a crash.
    pub fn persistent() -> Self {
        Self::launch(true, None)
    }

    /// A replica of `primary` (it keeps what it received in a file).
    pub fn replica_of(primary: &PrivateRedis) -> Self {
        Self::launch(true, Some(primary.port))
    }

    fn launch(keeps_a_file: bool, primary: Option<u16>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = keeps_a_file.then(|| {
            let dir = std::env::temp_dir().join(format!("folio-test-redis-{}", unique()));
            std::fs::create_dir_all(&dir).unwrap();
            dir
        });
        let mut redis = PrivateRedis {
            port,
            child: None,
            dir,
            primary,
        };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs a command on it with redis-cli; returns its output.
    pub fn ask(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli is installed");
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn restart(&mut self) {
        let mut command = Command::new("redis-server");
        command.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]);
        if let Some(primary) = self.primary {
            command.args(["--replicaof", "127.0.0.1", &primary.to_string()]);
        }
        if let Some(dir) = &self.dir {
            command
                .arg("--dir")
                .arg(dir)
                .args(["--dbfilename", "dump.rdb"]);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs a command on it with redis-cli (works while it is paused).
    pub fn cli(&self, args: &[&str]) {
        let status = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli is installed");
        assert!(status.success());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A TCP proxy a test puts between folio and a server: it can add latency,
/// cut every connection (the server gone), and send new connections to
/// another server (a failover), without touching the servers themselves.
pub struct Proxy {
    pub port: u16,
    target: Arc<Mutex<String>>,
    /// Added to every chunk, each way.
    delay: Duration,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(target: String) -> Proxy {
        Proxy::with_delay(target, Duration::ZERO).await
    }

    /// Every chunk arrives `delay` after it was sent, in both directions;
    /// chunks are not held behind one another, so this is latency, not a
    /// narrower pipe.
    pub async fn with_delay(target: String, delay: Duration) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            port: listener.local_addr().unwrap().port(),
            target: Arc::new(Mutex::new(target)),
            delay,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let tasks = self.tasks.clone();
        let target = self.target.clone();
        let delay = self.delay;
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let target = target.lock().unwrap().clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(&target).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        let (in_read, in_write) = inbound.into_split();
                        let (out_read, out_write) = outbound.into_split();
                        tokio::join!(
                            forward(in_read, out_write, delay),
                            forward(out_read, in_write, delay)
                        );
                    }
                });
                tasks.lock().unwrap().push(pipe);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes every connection and refuses new ones.
    pub async fn cut(&self) {
        let tasks: Vec<_> = self.tasks.lock().unwrap().drain(..).collect();
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    /// A failover: every connection closed, new ones go to `target`.
    pub async fn switch_to(&self, target: String) {
        self.cut().await;
        *self.target.lock().unwrap() = target;
        self.restore().await;
    }
}

/// Copies one direction of a connection, each chunk `delay` late.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (chunks, mut due) = tokio::sync::mpsc::unbounded_channel();
    let read = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf).await {
            let at = tokio::time::Instant::now() + delay;
            if chunks.send((at, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    };
    let write = async move {
        while let Some((at, chunk)) = due.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(read, write);
}
