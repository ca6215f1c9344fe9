//! Where log lines go: standard output, in batches. Events append their line
//! to a shared buffer; a thread writes the buffer out every `FLUSH_EVERY`,
//! so a busy server makes one write per batch instead of one per request and
//! never wakes another thread per line. Lines are dropped (and counted)
//! rather than slowing requests when output cannot keep up, and a failed
//! write never panics: a log line must never take the server down.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;

const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Unwritten bytes beyond which new lines are dropped.
const MAX_PENDING: usize = 4 * 1024 * 1024;

#[derive(Clone)]
pub struct BatchedStdout(Arc<Shared>);

struct Shared {
    buffer: Mutex<Vec<u8>>,
    closed: Mutex<bool>,
    wake: Condvar,
    dropped: AtomicU64,
}

/// Flushes what is left when dropped (keep it until the process ends).
pub struct FlushOnDrop(Arc<Shared>, Option<std::thread::JoinHandle<()>>);

impl BatchedStdout {
    /// The writer, and the guard that flushes it at exit.
    pub fn start() -> (Self, FlushOnDrop) {
        let shared = Arc::new(Shared {
            buffer: Mutex::new(Vec::with_capacity(64 * 1024)),
            closed: Mutex::new(false),
            wake: Condvar::new(),
            dropped: AtomicU64::new(0),
        });
        let flusher = shared.clone();
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || flusher.run())
            .ok();
        (BatchedStdout(shared.clone()), FlushOnDrop(shared, thread))
    }
}

impl Shared {
    fn run(&self) {
        let mut spare = Vec::with_capacity(64 * 1024);
        loop {
            let closed = {
                let closed = self.closed.lock().unwrap_or_else(|p| p.into_inner());
                let (closed, _) = self
                    .wake
                    .wait_timeout(closed, FLUSH_EVERY)
                    .unwrap_or_else(|p| p.into_inner());
                *closed
            };
            self.flush_into(&mut spare);
            if closed {
                return;
            }
        }
    }

    /// Swaps the buffer out and writes it without holding the lock.
    fn flush_into(&self, spare: &mut Vec<u8>) {
        {
            let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::swap(&mut *buffer, spare);
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let _ = writeln!(spare, "log output fell behind: {dropped} lines dropped");
        }
        if !spare.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(spare);
            let _ = out.flush();
            spare.clear();
        }
    }
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        *self.0.closed.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.0.wake.notify_all();
        match self.1.take() {
            Some(thread) => {
                let _ = thread.join();
            }
            None => self.0.flush_into(&mut Vec::new()),
        }
    }
}

impl Write for BatchedStdout {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.0.buffer.lock().unwrap_or_else(|p| p.into_inner());
        if buffer.len() + line.len() > MAX_PENDING {
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            buffer.extend_from_slice(line);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStdout {
    type Writer = BatchedStdout;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
