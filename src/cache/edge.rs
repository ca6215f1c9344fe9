//! HTTP caches in front of folio (`FOLIO_EDGE_PURGE`): Varnish with its xkey
//! module, or a CDN that purges by surrogate key.
//!
//! Every cacheable page carries, in `xkey` and `Surrogate-Key`, two keys: its
//! own (`{prefix}{path}`) and the site's (`{prefix}all`). A write purges the
//! keys of exactly the pages `deps` named (or `{prefix}all` for a change of
//! every page), so the edge is purged as exactly as Redis.
//!
//! The writer sends its purges itself, from memory, after its lease wait and
//! before its answer; it answers `303` only if every endpoint confirmed (see
//! `Committed::edge_confirmed`). The purges are also recorded in the write's
//! transaction (`edge_purges`), one row per endpoint: the retry, due only
//! after the writer's window (`WRITER_WINDOW`) and deleted once an endpoint
//! answers `2xx`. A background loop on every instance sends the rows that
//! are due, with backoff, so an endpoint that is down delays nothing but its
//! own purge, and a writer that died after its commit is covered.
//!
//! The fetch/purge race (the edge fetched the old page just before a write
//! and stores it just after the purge) is closed three ways:
//! - no purge is sent before the write's lease wait ended, when no instance
//!   can still produce the old page from a copy: the writer sends after it,
//!   and a background sender only sends a row it has seen due for at least
//!   `LEASE` (a row is visible only after its commit, so whatever the clocks
//!   of the instances say, that is after the lease wait);
//! - a response is marked public only when it is known current: a hit, a
//!   miss whose fill passed the generation check, or a render during which
//!   no write committed; anything else is `no-store`;
//! - each write is purged a second time `SECOND_PURGE_AFTER` later, for a
//!   response still in transit when the first purge arrived.

use super::deps::Stale;
use super::keys::Page;
use super::local::LEASE;
use crate::db::Db;
use sqlx::{Any, Transaction};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const SECOND_PURGE_AFTER: Duration = Duration::from_secs(2);
/// Most keys in one purge request (Fastly's limit).
const KEYS_PER_PURGE: usize = 256;
const PURGE_TIMEOUT: Duration = Duration::from_millis(500);
/// How often each instance retries due purges.
const RETRY_EVERY: Duration = Duration::from_millis(200);
/// How long after its commit a write's own purge is left to the writer:
/// its lease wait, its Redis invalidation (2 s by default) and its sends.
/// A slower writer only means the same purge is sent twice.
const WRITER_WINDOW: Duration = Duration::from_secs(3);
/// How long the background loop remembers when it first saw a row due.
const SEEN_FOR: Duration = Duration::from_secs(60);

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

/// A write's own purge of one endpoint, and the id of its retry row.
#[derive(Debug)]
pub struct Purge {
    id: i64,
    endpoint: String,
    xkeys: String,
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

    /// Records a write's purges in its transaction: the retry of the
    /// writer's own send, due after its window, and the second purge.
    /// Returns what the writer sends itself.
    pub async fn record(
        &self,
        tx: &mut Transaction<'static, Any>,
        stale: &Stale,
    ) -> sqlx::Result<Vec<Purge>> {
        let mut own = Vec::new();
        let keys = self.stale_keys(stale);
        if keys.is_empty() {
            return Ok(own);
        }
        let now = now_ms();
        let retry = now + WRITER_WINDOW.as_millis() as i64;
        let second = now + SECOND_PURGE_AFTER.as_millis() as i64;
        for endpoint in &self.endpoints {
            for batch in keys.chunks(KEYS_PER_PURGE) {
                let xkeys = batch.join(" ");
                for due_at in [retry, second] {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO edge_purges (endpoint, xkeys, due_at) VALUES ($1, $2, $3) RETURNING id",
                    )
                    .bind(endpoint)
                    .bind(&xkeys)
                    .bind(due_at)
                    .fetch_one(&mut **tx)
                    .await?;
                    if due_at == retry {
                        own.push(Purge {
                            id,
                            endpoint: endpoint.clone(),
                            xkeys: xkeys.clone(),
                        });
                    }
                }
            }
        }
        Ok(own)
    }

    /// Sends a write's own purges, to every endpoint at once; true when each
    /// answered `2xx`. Call only after the write's lease wait. A confirmed
    /// purge's retry row is deleted; an unconfirmed one is retried by the
    /// background loop from now on. Neither needs the database to be up:
    /// a row left behind is only sent again.
    pub async fn send_own(&self, db: &Db, purges: &[Purge]) -> bool {
        let sent =
            futures_util::future::join_all(purges.iter().map(|p| purge(&p.endpoint, &p.xkeys)))
                .await;
        let mut confirmed = true;
        for (p, result) in purges.iter().zip(sent) {
            let done = match result {
                Ok(()) => {
                    sqlx::query("DELETE FROM edge_purges WHERE id = $1")
                        .bind(p.id)
                        .execute(db)
                        .await
                }
                Err(e) => {
                    confirmed = false;
                    tracing::warn!(endpoint = %p.endpoint, error = %e, "edge purge not confirmed before the answer; will retry");
                    sqlx::query(
                        "UPDATE edge_purges SET attempts = attempts + 1, due_at = $1 WHERE id = $2",
                    )
                    .bind(now_ms() + RETRY_EVERY.as_millis() as i64)
                    .bind(p.id)
                    .execute(db)
                    .await
                }
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "cannot record an edge purge");
            }
        }
        confirmed
    }

    /// Sends every purge that is due and was already seen due at least a
    /// lease ago (`seen`: when this instance first saw each row due); run by
    /// every instance in the background.
    async fn send_due(&self, db: &Db, seen: &mut HashMap<i64, Instant>) {
        let due = sqlx::query_as::<_, Due>(
            "SELECT id, endpoint, xkeys, attempts FROM edge_purges WHERE due_at <= $1 ORDER BY id LIMIT 100",
        )
        .bind(now_ms())
        .fetch_all(db)
        .await;
        // After the answer: the row was committed before this moment.
        let now = Instant::now();
        match due {
            Ok(rows) => {
                seen.retain(|id, at| {
                    now.duration_since(*at) < SEEN_FOR || rows.iter().any(|r| r.id == *id)
                });
                for row in rows {
                    let first = *seen.entry(row.id).or_insert(now);
                    if now.duration_since(first) >= LEASE {
                        self.deliver(db, row).await;
                    }
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
            let mut seen = HashMap::new();
            loop {
                every.tick().await;
                edge.send_due(&db, &mut seen).await;
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
