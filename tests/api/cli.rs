//! The binary itself, driven as an operator would: first start, seed, admin create.

use crate::helpers::{Backend, browser, fresh_database, shared_redis_url, submit_login};
use sqlx::Connection;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const FOLIO: &str = env!("CARGO_BIN_EXE_folio");

fn folio(database_url: &str) -> Command {
    let mut command = Command::new(FOLIO);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("REDIS_URL", shared_redis_url())
        .env(
            "FOLIO_CACHE_PREFIX",
            format!("cli-{}:", uuid::Uuid::new_v4().simple()),
        )
        .env("FOLIO_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info");
    command
}

/// A running `folio serve`, stopped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `folio serve`; returns it, its port and what it printed before listening.
fn serve(database_url: &str) -> (Running, u16, Vec<String>) {
    let mut child = Running(
        folio(database_url)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (tx, rx) = mpsc::channel();
    for stream in [
        Box::new(child.0.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.0.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            // Keep reading after the receiver is gone: a closed pipe would
            // make the server's log writes fail.
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("folio starts and says where it listens");
        if let Some(at) = line.find("listening on http://127.0.0.1:") {
            let rest = &line[at + "listening on http://127.0.0.1:".len()..];
            let port = rest
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap();
            return (child, port, lines);
        }
        lines.push(line);
    }
}

async fn logs_in(port: u16, username: &str, password: &str) -> bool {
    let base = format!("http://localhost:{port}");
    let r = submit_login(&browser(), &base, username, password, "").await;
    r.status().as_u16() == 303
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_prints_an_admin_password_once_and_it_logs_in() {
    let database_url = fresh_database(Backend::Sqlite).await;
    let (child, port, printed) = serve(&database_url);
    let line = printed
        .iter()
        .find(|l| l.contains("with password: "))
        .expect("a password is printed");
    let password = line
        .split("with password: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(password.len(), 20);
    assert!(logs_in(port, "admin", &password).await);
    assert!(!logs_in(port, "admin", "wrong password").await);
    drop(child);

    let (again, port, printed) = serve(&database_url);
    assert!(
        !printed.iter().any(|l| l.contains("with password")),
        "printed only once"
    );
    assert!(logs_in(port, "admin", &password).await);
    drop(again);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_inserts_deterministic_posts_and_admin_create_reads_stdin() {
    let database_url = fresh_database(Backend::Postgres).await;
    let before = chrono::Utc::now().timestamp();
    let status = folio(&database_url)
        .args(["seed", "--posts", "25"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let after = chrono::Utc::now().timestamp();
    // Dated backwards from the seed's moment, an hour apart: none ahead.
    let mut db = sqlx::AnyConnection::connect(&database_url).await.unwrap();
    let (oldest, newest): (i64, i64) =
        sqlx::query_as("SELECT MIN(published_at), MAX(published_at) FROM posts")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(
        (before..=after).contains(&newest),
        "the newest seeded post is dated now: {newest} not in {before}..={after}"
    );
    assert_eq!(newest - oldest, 24 * 3600);

    let mut create = folio(&database_url)
        .args(["admin", "create", "--username", "writer"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    assert!(create.wait().unwrap().success());

    let (child, port, _) = serve(&database_url);
    let base = format!("http://localhost:{port}");
    let index = browser()
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(index.contains("Sample post 25: notes on"), "newest first");
    let page3 = browser()
        .get(format!("{base}/?page=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(page3.status().as_u16(), 200);
    let post = browser()
        .get(format!("{base}/posts/sample-post-1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        post.contains("<h2>")
            && post.contains("<li>")
            && post.contains("<pre><code class=\"language-rust\">")
    );
    assert!(logs_in(port, "writer", "a long enough password").await);
    drop(child);

    // A password from argv is not an option: it is not a flag of `admin create`.
    let refused = folio(&database_url)
        .args(["admin", "create", "--username", "writer", "--password", "x"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!refused.status.success());
}
