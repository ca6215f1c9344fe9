//! HTTP caches in front of folio (`FOLIO_EDGE_PURGE`): Varnish with its xkey
//! module, or a CDN that purges by surrogate key.
//!
//! Every cacheable page carries, in `xkey` and `Surrogate-Key`, two keys: its
//! own (`{prefix}{path}`) and the site's (`{prefix}all`). A write purges the
//! keys of exactly the pages `deps` named (or `{prefix}all` for a change of
//! every page), so the edge is purged as exactly as Redis. The purges are
//! recorded in the write's transaction (`edge_purges`), one row per endpoint,
//! and deleted once the endpoint answers `2xx`; a background loop on every
//! instance retries the rest with backoff, so an endpoint that is down delays
//! nothing but its own purge.
//!
//! The fetch/purge race (the edge fetched the old page just before a write
//! and stores it just after the purge) is closed three ways:
//! - the first purge is sent after the write's lease wait, when no instance
//!   can still produce the old page from a copy;
//! - a response is marked public only when it is known current: a hit, a
//!   miss whose fill passed the generation check, or a render during which
//!   no write committed; anything else is `no-store`;
//! - each write is purged a second time `SECOND_PURGE_AFTER` later, for a
//!   response still in transit when the first purge arrived.

use super::deps::Stale;
use super::keys::Page;
use crate::db::Db;
use sqlx::{Any, Transaction};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const SECOND_PURGE_AFTER: Duration = Duration::from_secs(2);
/// Most keys in one purge request (Fastly's limit).
const KEYS_PER_PURGE: usize = 256;
const PURGE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often each instance retries due purges.
const RETRY_EVERY: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct Edge {
    endpoints: Vec<String>,
    prefix: String,
}

/// How a response to a visitor is marked for the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeMark {
    /// No edge configured: browsers revalidate with the ETag.
    Off,
    /// Cacheable at the edge for `ttl` seconds under `keys`.
    Public { ttl: u64, keys: String },
    /// Not known to be current: the edge must not store it.
    NoStore,
}

/// A due purge.
#[derive(Debug, sqlx::FromRow)]
struct Due {
    id: i64,
    endpoint: String,
    xkeys: String,
    attempts: i64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Edge {
    pub fn new(endpoints: Vec<String>, prefix: &str) -> Self {
        Edge {
            endpoints,
            prefix: prefix.to_string(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.endpoints.is_empty()
    }

    fn all_key(&self) -> String {
        format!("{}all", self.prefix)
    }

    /// The keys a page is stored under at the edge.
    pub fn page_keys(&self, page: &Page) -> String {
        format!("{}{} {}", self.prefix, page.path(), self.all_key())
    }

    fn stale_keys(&self, stale: &Stale) -> Vec<String> {
        match stale {
            Stale::Everything => vec![self.all_key()],
            Stale::Pages(pages) => pages
                .iter()
                .map(|p| format!("{}{}", self.prefix, p.path()))
                .collect(),
        }
    }

    /// Records a write's purges in its transaction: due at once (sent by the
    /// writer after its lease wait) and again a little later.
    pub async fn record(
        &self,
        tx: &mut Transaction<'static, Any>,
        stale: &Stale,
    ) -> sqlx::Result<Vec<i64>> {
        let mut now_ids = Vec::new();
        let keys = self.stale_keys(stale);
        if keys.is_empty() {
            return Ok(now_ids);
        }
        let later = now_ms() + SECOND_PURGE_AFTER.as_millis() as i64;
        for endpoint in &self.endpoints {
            for batch in keys.chunks(KEYS_PER_PURGE) {
                let xkeys = batch.join(" ");
                for due_at in [0, later] {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO edge_purges (endpoint, xkeys, due_at) VALUES ($1, $2, $3) RETURNING id",
                    )
                    .bind(endpoint)
                    .bind(&xkeys)
                    .bind(due_at)
                    .fetch_one(&mut **tx)
                    .await?;
                    if due_at == 0 {
                        now_ids.push(id);
                    }
                }
            }
        }
        Ok(now_ids)
    }

    /// Sends the purges a write recorded as due now (before its answer).
    pub async fn send_now(&self, db: &Db, ids: &[i64]) {
        for id in ids {
            let due = sqlx::query_as::<_, Due>(
                "SELECT id, endpoint, xkeys, attempts FROM edge_purges WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(db)
            .await;
            if let Ok(Some(due)) = due {
                self.deliver(db, due).await;
            }
        }
    }

    /// Sends every purge that is due; run by every instance in the background.
    pub async fn send_due(&self, db: &Db) {
        let due = sqlx::query_as::<_, Due>(
            "SELECT id, endpoint, xkeys, attempts FROM edge_purges WHERE due_at <= $1 ORDER BY id LIMIT 100",
        )
        .bind(now_ms())
        .fetch_all(db)
        .await;
        match due {
            Ok(rows) => {
                for row in rows {
                    self.deliver(db, row).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read due edge purges"),
        }
    }

    async fn deliver(&self, db: &Db, due: Due) {
        let result = purge(&due.endpoint, &due.xkeys).await;
        let outcome = match result {
            Ok(()) => {
                sqlx::query("DELETE FROM edge_purges WHERE id = $1")
                    .bind(due.id)
                    .execute(db)
                    .await
            }
            Err(e) => {
                // Backoff: 0.2 s, 0.4 s, … up to 30 s between tries.
                let wait = (200i64 << due.attempts.clamp(0, 8)).min(30_000);
                tracing::warn!(endpoint = %due.endpoint, error = %e, attempts = due.attempts + 1, "edge purge failed; will retry");
                sqlx::query(
                    "UPDATE edge_purges SET attempts = attempts + 1, due_at = $1 WHERE id = $2",
                )
                .bind(now_ms() + wait)
                .bind(due.id)
                .execute(db)
                .await
            }
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "cannot record an edge purge");
        }
    }

    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Purges not yet confirmed, due or not.
    pub async fn pending(&self, db: &Db) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM edge_purges")
            .fetch_one(db)
            .await
    }

    /// Purges that failed at least once or are overdue by more than a
    /// second: the edge is behind.
    pub async fn behind(&self, db: &Db) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM edge_purges WHERE attempts > 0 OR due_at < $1")
            .bind(now_ms() - 1000)
            .fetch_one(db)
            .await
    }

    pub fn spawn(&self, db: Db) {
        if !self.enabled() {
            return;
        }
        let edge = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RETRY_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                edge.send_due(&db).await;
            }
        });
    }
}

/// Why a purge was not confirmed; it is retried.
#[derive(Debug, thiserror::Error)]
enum PurgeError {
    #[error("bad endpoint: {0}")]
    BadEndpoint(#[from] url::ParseError),
    #[error("endpoint has no host")]
    NoHost,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Its status line, when not `2xx`.
    #[error("answered {0}")]
    Refused(String),
    #[error("timed out")]
    Timeout,
}

/// `PURGE /` with `xkey-purge: <keys>`, the convention of Varnish's xkey
/// module; a small HTTP/1.1 exchange needs no client library.
async fn purge(endpoint: &str, keys: &str) -> Result<(), PurgeError> {
    let url = url::Url::parse(endpoint)?;
    let host = url.host_str().ok_or(PurgeError::NoHost)?.to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        let request = format!(
            "PURGE / HTTP/1.1\r\nHost: {host}:{port}\r\nxkey-purge: {keys}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 64];
        let n = stream.read(&mut head).await?;
        let line = String::from_utf8_lossy(&head[..n]);
        let status = line.split_whitespace().nth(1).unwrap_or("");
        if status.starts_with('2') {
            Ok(())
        } else {
            Err(PurgeError::Refused(status.to_string()))
        }
    };
    tokio::time::timeout(PURGE_TIMEOUT, exchange)
        .await
        .map_err(|_| PurgeError::Timeout)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_stored_under_its_own_key_and_the_sites() {
        let edge = Edge::new(vec!["http://x".into()], "folio:");
        assert_eq!(
            edge.page_keys(&Page::Tag("rust".into(), 2)),
            "folio:/tags/rust?page=2 folio:all"
        );
        assert_eq!(edge.stale_keys(&Stale::Everything), vec!["folio:all"]);
        assert_eq!(
            edge.stale_keys(&Stale::Pages(vec![Page::Index(1), Page::Feed])),
            vec!["folio:/", "folio:/feed.xml"]
        );
    }
}
