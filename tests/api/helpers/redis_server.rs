//! Redis servers of a test's own.

use super::unique;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
