//! Applying a committed write's invalidation, then re-warming what it removed.
//!
//! `invalidate` runs before the write answers: it removes the stale pages
//! (or, for a change of every page, moves the epoch, which costs the same
//! whatever is cached), confirms the outbox row, and waits out the lease
//! (see `local`) so that once the caller answers, no instance serves an old
//! copy. When Redis cannot confirm in time, this instance stops using the
//! cache at once and the reconciler finishes the job; the row keeps every
//! other instance off the cache until then.
//!
//! Re-warming renders again, in the background, the pages the write removed
//! that were cached (and only those), and stores them under the generation
//! current after the invalidation: a later write replaces it, so a re-render
//! that raced one is never stored.

use super::deps::Stale;
use super::entry::Entry;
use super::error::{CacheError, RedisOp, within};
use super::keys::Page;
use super::local::LEASE;
use super::log::{LOG_LEN, LogEntry};
use super::{PageCache, outbox, parse_hex, scripts};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::Semaphore;

/// Re-renders in flight at once, per instance.
const REWARM_CONCURRENCY: usize = 4;
/// Most pages re-rendered after a change of every page: the read set's
/// length, as `scripts::FILL` trims it.
const REWARM_EVERYTHING_MAX: isize = 500;

/// A committed write, to invalidate.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub outbox_id: i64,
    pub seq: i64,
    pub cause: String,
    pub stale: Stale,
    pub committed: Instant,
    pub committed_at: chrono::DateTime<chrono::Utc>,
}

impl PageCache {
    /// Invalidates a committed write before its response; true once Redis
    /// confirmed it.
    pub async fn invalidate(&self, receipt: &Receipt) -> bool {
        match &receipt.stale {
            Stale::Pages(pages) => {
                for page in pages {
                    self.0.local.remove(page);
                }
            }
            Stale::Everything => self.0.local.clear(),
        }
        let mut confirmed = false;
        if self.0.redis.is_some()
            && let Ok(removed) = self.apply(receipt.seq, &receipt.stale).await
        {
            confirmed = self.confirm(receipt.outbox_id).await;
            let confirmed_ms = receipt.committed.elapsed().as_millis() as u64;
            self.after_apply(receipt, removed, confirmed_ms);
        }
        // A cache-less instance waits too: instances with a cache must see
        // its outbox row before their leases let them serve old copies.
        tokio::time::sleep_until((receipt.committed + LEASE).into()).await;
        confirmed
    }

    pub(super) async fn confirm(&self, outbox_id: i64) -> bool {
        match outbox::confirm(&self.0.db, outbox_id).await {
            Ok(()) => true,
            Err(e) => {
                // Harmless: the row is applied again later, which is idempotent.
                tracing::warn!(error = %e, "could not delete a confirmed invalidation");
                false
            }
        }
    }

    /// Runs the invalidation script; the pages that were cached, once Redis
    /// confirmed it. A failure stops the use of the cache.
    pub(super) async fn apply(&self, seq: i64, stale: &Stale) -> Result<Vec<Page>, CacheError> {
        let redis = self.0.redis.as_ref().ok_or(CacheError::Off)?;
        let everything = matches!(stale, Stale::Everything);
        let mut invocation =
            scripts::new_version(&scripts::INVALIDATE, &self.0.keys, seq, everything);
        for page in stale.pages() {
            invocation.key(self.0.keys.view(page));
        }
        let mut conn = redis.conn.clone();
        let started = Instant::now();
        let reply = within(
            RedisOp::Invalidation,
            self.0.write_timeout,
            invocation.invoke_async::<Vec<usize>>(&mut conn),
        )
        .await;
        metrics::histogram!("folio_redis_seconds", "op" => "invalidate")
            .record(started.elapsed().as_secs_f64());
        let indexes = reply.inspect_err(|e| self.fail(e))?;
        Ok(indexes
            .into_iter()
            .filter_map(|i| stale.pages().get(i.checked_sub(1)?).cloned())
            .collect())
    }

    /// In the background: re-warm what was removed, then log the invalidation.
    pub(super) fn after_apply(&self, receipt: &Receipt, removed: Vec<Page>, confirmed_ms: u64) {
        let cache = self.clone();
        let receipt = receipt.clone();
        tokio::spawn(async move {
            let (keys, rewarmed) = match receipt.stale {
                // Off: nothing more is sent to Redis than the log entry.
                Stale::Everything if !cache.0.rewarm => (0, 0),
                Stale::Everything => {
                    let pages = cache.recently_read().await;
                    let n = pages.len() as u64;
                    (n, cache.rewarm(pages).await)
                }
                Stale::Pages(_) => (removed.len() as u64, cache.rewarm(removed).await),
            };
            cache
                .log(LogEntry {
                    at: receipt
                        .committed_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    cause: receipt.cause.clone(),
                    keys,
                    confirmed_ms,
                    rewarmed,
                })
                .await;
        });
    }

    /// The pages stored most recently, newest first (for a change of every
    /// page, whose stale entries stay until overwritten or expired): read
    /// from the bounded read set, never by scanning the keyspace.
    async fn recently_read(&self) -> Vec<Page> {
        let Some(redis) = &self.0.redis else {
            return Vec::new();
        };
        let mut conn = redis.conn.clone();
        let paths = within(
            RedisOp::Rewarm,
            self.0.write_timeout,
            redis::cmd("ZREVRANGE")
                .arg(self.0.keys.read())
                .arg(0)
                .arg(REWARM_EVERYTHING_MAX - 1)
                .query_async::<Vec<String>>(&mut conn),
        )
        .await;
        paths
            .unwrap_or_default()
            .iter()
            .filter_map(|path| Page::from_path(path))
            .collect()
    }

    /// Renders `pages` again and stores them; how many were stored.
    async fn rewarm(&self, pages: Vec<Page>) -> u64 {
        let Some(renderer) = self.0.renderer.get().cloned() else {
            return 0;
        };
        if !self.0.rewarm || pages.is_empty() {
            return 0;
        }
        let stored = Arc::new(AtomicU64::new(0));
        let limit = Arc::new(Semaphore::new(REWARM_CONCURRENCY));
        let mut tasks = Vec::new();
        for page in pages {
            let Ok(permit) = limit.clone().acquire_owned().await else {
                break;
            };
            let (cache, renderer, stored) = (self.clone(), renderer.clone(), stored.clone());
            tasks.push(tokio::spawn(async move {
                if cache.warm(&page, renderer.as_ref()).await {
                    stored.fetch_add(1, Ordering::Relaxed);
                }
                drop(permit);
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        stored.load(Ordering::Relaxed)
    }

    /// One re-render, stored only if no write happened since it began.
    async fn warm(&self, page: &Page, renderer: &dyn super::Renderer) -> bool {
        let Some(redis) = &self.0.redis else {
            return false;
        };
        let mut conn = redis.conn.clone();
        let reply = within(
            RedisOp::Rewarm,
            self.0.read_timeout,
            redis::cmd("MGET")
                .arg(self.0.keys.generation())
                .arg(self.0.keys.epoch())
                .query_async::<(Option<String>, Option<String>)>(&mut conn),
        )
        .await;
        let Ok((Some(generation), Some(epoch))) =
            reply.map(|(generation, epoch)| (generation, epoch.as_deref().and_then(parse_hex)))
        else {
            return false;
        };
        self.0.renders.fetch_add(1, Ordering::Relaxed);
        match renderer.render(page).await {
            Ok(rendered) => {
                let entry = Arc::new(Entry::new(rendered, epoch));
                self.fill(page, &generation, &entry).await
            }
            Err(_) => false, // gone (404) or failing: the next visitor renders it
        }
    }

    pub(super) async fn log(&self, entry: LogEntry) {
        let Some(redis) = &self.0.redis else { return };
        let Ok(json) = serde_json::to_string(&entry) else {
            return;
        };
        // Scored by commit time, so entries whose background tasks ended out
        // of order still read newest first.
        let score = chrono::DateTime::parse_from_rfc3339(&entry.at)
            .map(|at| at.timestamp_millis())
            .unwrap_or_else(|_| chrono::Utc::now().timestamp_millis());
        let key = self.0.keys.log();
        let mut conn = redis.conn.clone();
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD")
            .arg(&key)
            .arg(score)
            .arg(json)
            .ignore()
            .cmd("ZREMRANGEBYRANK")
            .arg(&key)
            .arg(0)
            .arg(-LOG_LEN - 1)
            .ignore();
        let sent = within(
            RedisOp::Log,
            self.0.write_timeout,
            pipe.query_async::<()>(&mut conn),
        )
        .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "could not write the invalidation log");
        }
    }
}
