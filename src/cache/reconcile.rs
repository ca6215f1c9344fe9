//! The reconciler: every `RECONCILE_EVERY`, on every instance, one pass that
//! 1. reads the database's write sequence and pending invalidations (one
//!    statement, one round trip),
//! 2. renews with Redis (one script: sends a batch of counts, returns the
//!    generation, the sequence Redis has applied, and the epoch),
//! 3. applies pending invalidations,
//! 4. resets Redis when it is behind the database (it forgot a write), and
//! 5. only then puts the cache in use and renews the lease on the
//!    generation it read.
//!
//! Passes start on the cadence, not after the pass before: with a slow
//! database they overlap, and a renewal still lands every `RECONCILE_EVERY`.
//! A lease starts when its read was sent, so it does not lapse as long as a
//! database and a Redis round trip take less than `LEASE - RECONCILE_EVERY`.
//! Overlapping passes only ever lengthen the lease (`local::renew`), a pass
//! older than one that found work pending does not put the cache back in
//! use, and the repairs of steps 3 and 4 run one at a time.

use super::deps::Stale;
use super::error::{CacheError, RedisOp, within};
use super::log::LogEntry;
use super::lookup::MINUTE_TTL_SECS;
use super::outbox::Pending;
use super::{PageCache, outbox, parse_hex, scripts};
use sqlx::Any;
use sqlx::pool::PoolConnection;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How often each instance reconciles: several times per lease.
pub const RECONCILE_EVERY: Duration = Duration::from_millis(30);
/// Passes in flight at once: enough for round trips of over 100 ms, and a
/// bound on what a database that stopped answering holds.
const IN_FLIGHT: usize = 5;
/// Pending invalidations read per pass.
const PENDING_PER_PASS: i64 = 100;

/// What Redis said at a renewal.
pub(super) struct Renewal {
    generation: Option<u64>,
    seq: Option<i64>,
    epoch: Option<u64>,
}

/// What overlapping passes share.
pub(super) struct Passes {
    /// Numbers passes in the order they started.
    started: AtomicU64,
    /// The newest pass that found work to do: older ones, whose reads may
    /// predate that work, do not put the cache back in use.
    blocked: AtomicU64,
    /// Database connections kept between passes: the pool spends a round
    /// trip testing each connection it hands out, a kept one costs nothing.
    conns: Mutex<Vec<PoolConnection<Any>>>,
    /// Held while applying pending rows or resetting Redis, with the number
    /// of the newest pass started when the last repair ended: a pass that
    /// read before that repairs nothing (its rows may be applied already).
    repair: tokio::sync::Mutex<u64>,
    in_flight: Semaphore,
}

impl Default for Passes {
    fn default() -> Self {
        Passes {
            started: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
            conns: Mutex::default(),
            repair: tokio::sync::Mutex::new(0),
            in_flight: Semaphore::new(IN_FLIGHT),
        }
    }
}

/// A pass's read of the database.
struct Read {
    /// Sent no later than the database read: when a lease may start.
    sent_at: Instant,
    db_seq: i64,
    pending: Vec<Pending>,
}

impl PageCache {
    /// One pass of the reconciler (two when the first had to reset Redis,
    /// so a new Redis is in use at once).
    pub async fn reconcile(&self) {
        if self.0.redis.is_none() {
            return;
        }
        if self.reconcile_once().await {
            self.reconcile_once().await;
        }
    }

    /// True when it reset Redis.
    async fn reconcile_once(&self) -> bool {
        let passes = &self.0.passes;
        let pass = passes.started.fetch_add(1, Ordering::SeqCst) + 1;
        let seen = self.0.health.seen();
        let read = match self.read_database().await {
            Ok(read) => read,
            Err(e) => {
                // Without the outbox nothing can be trusted.
                self.0.health.suspend();
                self.0.local.revoke();
                if let Some(e) = e {
                    tracing::warn!(error = %e, "cannot read pending invalidations");
                }
                return false;
            }
        };
        if !read.pending.is_empty() {
            passes.blocked.fetch_max(pass, Ordering::SeqCst);
            self.0.health.suspend();
            self.0.local.revoke();
        }
        let Ok(renewal) = self.renew().await else {
            return false;
        };
        // No sequence at all is a new (or emptied) Redis: reset quietly.
        let behind = renewal.seq.is_none_or(|s| s < read.db_seq) || renewal.epoch.is_none();
        if !read.pending.is_empty() || behind {
            passes.blocked.fetch_max(pass, Ordering::SeqCst);
            return self.repair(pass, seen, &read, renewal.seq.is_some()).await;
        }
        if self.0.health.failed_since(seen) || passes.blocked.load(Ordering::SeqCst) > pass {
            return false;
        }
        self.0.seen_seq.fetch_max(read.db_seq, Ordering::SeqCst);
        if self.0.health.resume() {
            tracing::info!("redis cache in use");
        }
        self.0.local.renew(renewal.generation, read.sent_at);
        false
    }

    /// The write sequence and pending invalidations; `Err(None)` when the
    /// database is known to be down (no need to wait for the pool to say so).
    async fn read_database(&self) -> Result<Read, Option<sqlx::Error>> {
        if self.0.db_health.is_down() {
            return Err(None);
        }
        let kept = self
            .0
            .passes
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let mut conn = match kept {
            Some(conn) => conn,
            None => self.0.db.acquire().await.map_err(Some)?,
        };
        let sent_at = Instant::now();
        match outbox::state(&mut conn, PENDING_PER_PASS).await {
            Ok((db_seq, pending)) => {
                let mut kept = self
                    .0
                    .passes
                    .conns
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if kept.len() < IN_FLIGHT {
                    kept.push(conn);
                }
                Ok(Read {
                    sent_at,
                    db_seq,
                    pending,
                })
            }
            Err(e) => {
                // It may be broken: let the pool open a new one.
                conn.close_on_drop();
                Err(Some(e))
            }
        }
    }

    /// Applies pending invalidations, then resets Redis if it is behind;
    /// true when it reset. One repair at a time, from a fresh read.
    async fn repair(
        &self,
        pass: u64,
        seen: super::health::Seen,
        read: &Read,
        had_seq: bool,
    ) -> bool {
        let Ok(mut last) = self.0.passes.repair.try_lock() else {
            return false; // another pass is at it
        };
        if pass <= *last {
            return false;
        }
        let reset = self.repair_now(seen, read, had_seq).await;
        *last = self.0.passes.started.load(Ordering::SeqCst);
        reset
    }

    async fn repair_now(&self, seen: super::health::Seen, read: &Read, had_seq: bool) -> bool {
        for row in &read.pending {
            let stale = row.stale();
            let Ok(removed) = self.apply(row.seq, &stale).await else {
                return false;
            };
            self.confirm(row.id).await;
            let receipt = super::invalidate::Receipt {
                outbox_id: row.id,
                seq: row.seq,
                cause: format!("{} (applied later)", row.cause),
                stale,
                committed: Instant::now(),
                committed_at: chrono::Utc::now(),
            };
            self.after_apply(&receipt, removed, 0);
        }
        if !read.pending.is_empty() || self.0.health.failed_since(seen) {
            // Decide on the next pass, with a generation read after these.
            return false;
        }
        self.reset(read.db_seq, had_seq).await.is_ok()
    }

    /// Redis lost writes it had confirmed (or everything): discard every page
    /// it holds by moving the epoch, and every copy in process. A failure
    /// stops the use of the cache.
    async fn reset(&self, db_seq: i64, forgot: bool) -> Result<(), CacheError> {
        let redis = self.0.redis.as_ref().ok_or(CacheError::Off)?;
        self.0.health.suspend();
        self.0.local.revoke();
        self.0.local.clear();
        let invocation = scripts::new_version(&scripts::RESET, &self.0.keys, db_seq, true);
        let mut conn = redis.conn.clone();
        let done = within(
            RedisOp::Reset,
            self.0.write_timeout,
            invocation.invoke_async::<i64>(&mut conn),
        )
        .await
        .inspect_err(|e| self.fail(e))?;
        // 0: another instance did it.
        if done == 1 && forgot {
            tracing::warn!(
                db_seq,
                "redis was behind the database; its pages are discarded"
            );
            self.log(LogEntry {
                at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                cause: "redis behind the database: reset".to_string(),
                keys: 0,
                confirmed_ms: 0,
                rewarmed: 0,
            })
            .await;
        }
        Ok(())
    }

    /// Runs `reconcile` forever in the background, a pass every
    /// `RECONCILE_EVERY` whether or not the one before has finished.
    pub fn spawn_reconciler(&self) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RECONCILE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let cache = cache.clone();
                tokio::spawn(async move {
                    let Ok(_turn) = cache.0.passes.in_flight.try_acquire() else {
                        return;
                    };
                    cache.reconcile().await;
                });
            }
        })
    }

    /// The renewal round trip: sends a batch of counts made in process and
    /// stamps this instance's flush. When Redis does not take the write, the
    /// cache stops being used (not counted as an error: that repeats every
    /// pass while Redis is away).
    pub(super) async fn renew(&self) -> Result<Renewal, CacheError> {
        let redis = self.0.redis.as_ref().ok_or(CacheError::Off)?;
        let batch = self.0.counts.batch();
        let keys = &self.0.keys;
        let mut invocation = scripts::FLUSH.prepare_invoke();
        invocation
            .key(keys.stats())
            .key(keys.minute(chrono::Utc::now().timestamp() / 60))
            .key(keys.instances())
            .key(keys.generation())
            .key(keys.seq())
            .key(keys.epoch())
            .key(keys.batches())
            .arg(&self.0.instance)
            .arg(MINUTE_TTL_SECS)
            .arg(batch.number);
        for (outcome, subject, n) in &batch.counts {
            if *subject != "redis" {
                invocation
                    .arg(format!("{}:{subject}", outcome.as_str()))
                    .arg(*n);
            }
            invocation.arg(outcome.as_str()).arg(*n);
        }
        let mut conn = redis.conn.clone();
        let reply = within(
            RedisOp::Renewal,
            self.0.write_timeout,
            invocation.invoke_async::<(String, String, String)>(&mut conn),
        )
        .await;
        let (generation, seq, epoch) = reply.inspect_err(|_| {
            self.0.health.fail();
            self.0.local.revoke();
        })?;
        self.0.counts.confirm(batch.number);
        Ok(Renewal {
            generation: parse_hex(&generation),
            seq: seq.parse().ok(),
            epoch: parse_hex(&epoch),
        })
    }
}

impl Stale {
    /// For logs.
    pub fn describe(&self) -> String {
        match self {
            Stale::Everything => "every page".to_string(),
            Stale::Pages(pages) => format!("{} pages", pages.len()),
        }
    }
}
