//! The database's health as requests see it: a small circuit breaker.
//!
//! Without it, every request during an outage waits out the pool's acquire
//! timeout (5 s) before its `503`. So when a request fails for want of a
//! connection (the server gone or refusing, shutting down, the pool unable to
//! open one in time), the database is marked down. While it is, every
//! request that needs the database is answered `503` at once, and a
//! background task opens a fresh connection and runs `SELECT 1` every
//! `PROBE_EVERY`; the first answer clears the mark. A busy or locked SQLite
//! file does not mark it down: reads still work, and the write that met the
//! lock gets its own `503`.
//!
//! The web layer's `routes::db_guard` answers those `503`s and marks the
//! database down; this file is only the state, so the cache, the pages and
//! the errors below the web layer can read it.

/// Also reachable here, where the breaker's callers look for it.
pub use crate::db::is_connection_failure;
use crate::error::AppError;
use sqlx::{AnyConnection, Connection, Executor};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// How often a database marked down is tried again.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);
/// Longest one probe may take (connecting included).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the database is marked down; cheap to clone, shared by the app.
#[derive(Clone, Default)]
pub struct DbHealth(Arc<Inner>);

#[derive(Default)]
struct Inner {
    down: AtomicBool,
    wake: Notify,
}

impl DbHealth {
    pub fn is_down(&self) -> bool {
        self.0.down.load(Ordering::SeqCst)
    }

    /// `DatabaseDown` while marked down: for work that would otherwise wait
    /// on the pool.
    pub fn check(&self) -> Result<(), AppError> {
        if self.is_down() {
            Err(AppError::DatabaseDown)
        } else {
            Ok(())
        }
    }

    /// Marks the database down and wakes the prober.
    pub fn mark_down(&self) {
        if !self.0.down.swap(true, Ordering::SeqCst) {
            tracing::warn!("database unreachable; answering 503 at once until a probe succeeds");
            metrics::counter!("folio_db_marked_down_total").increment(1);
            self.0.wake.notify_one();
        }
    }

    /// Starts the task that clears the mark once `url` answers again.
    pub fn spawn_prober(&self, url: String) -> tokio::task::JoinHandle<()> {
        let health = self.clone();
        tokio::spawn(async move {
            loop {
                if !health.is_down() {
                    // `notify_one` keeps a permit, so a mark set before this wait is seen.
                    health.0.wake.notified().await;
                    continue;
                }
                match tokio::time::timeout(PROBE_TIMEOUT, probe(&url)).await {
                    Ok(Ok(())) => {
                        health.0.down.store(false, Ordering::SeqCst);
                        tracing::info!("database reachable again");
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "database probe failed"),
                    Err(_) => tracing::debug!("database probe timed out"),
                }
                tokio::time::sleep(PROBE_EVERY).await;
            }
        })
    }
}

/// A fresh connection, not one from the pool: the pool may be full of dead
/// connections, or busy, and would make the probe wait its acquire timeout.
async fn probe(url: &str) -> Result<(), sqlx::Error> {
    let mut conn = AnyConnection::connect(url).await?;
    conn.execute("SELECT 1").await?;
    conn.close().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_mark_is_set_once_and_checked_at_once() {
        let health = DbHealth::default();
        assert!(health.check().is_ok());
        health.mark_down();
        health.mark_down();
        assert!(health.is_down());
        assert!(matches!(health.check(), Err(AppError::DatabaseDown)));
    }
}
