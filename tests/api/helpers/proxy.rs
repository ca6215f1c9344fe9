//! A TCP proxy for fault tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

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
