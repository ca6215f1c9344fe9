//! The reconciler: every `RECONCILE_EVERY`, on every instance, one pass that
//! 1. reads the database's write sequence and pending invalidations,
//! 2. renews with Redis (one script: sends a batch of counts, returns the
//!    generation, the sequence Redis has applied, and the epoch),
//! 3. applies pending invalidations,
//! 4. resets Redis when it is behind the database (it forgot a write), and
//! 5. only then puts the cache in use and renews the lease on the
//!    generation it read.

use super::deps::Stale;
use super::log::LogEntry;
use super::lookup::MINUTE_TTL_SECS;
use super::{PageCache, outbox, parse_hex, scripts};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How often each instance reconciles: several times per lease.
pub const RECONCILE_EVERY: Duration = Duration::from_millis(30);

/// What Redis said at a renewal.
pub(super) struct Renewal {
    generation: Option<u64>,
    seq: Option<i64>,
    epoch: Option<u64>,
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
        let sent_at = Instant::now();
        let seen = self.0.health.seen();
        // The sequence first: a write committing after this read shows up as
        // a pending row below, never as Redis being behind.
        let read = async {
            let seq = outbox::write_seq(&self.0.db).await?;
            Ok::<_, sqlx::Error>((seq, outbox::pending(&self.0.db, 100).await?))
        };
        let (db_seq, pending) = match read.await {
            Ok(read) => read,
            Err(e) => {
                // Without the outbox nothing can be trusted.
                self.0.health.suspend();
                self.0.local.revoke();
                tracing::warn!(error = %e, "cannot read pending invalidations");
                return false;
            }
        };
        if !pending.is_empty() {
            self.0.health.suspend();
            self.0.local.revoke();
        }
        let Some(renewal) = self.renew().await else {
            return false;
        };
        for row in &pending {
            let stale = row.stale();
            let Some(removed) = self.apply(row.seq, &stale).await else {
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
        if !pending.is_empty() || self.0.health.failed_since(seen) {
            // Decide on the next pass, with a generation read after these.
            return false;
        }
        if renewal.seq.is_none_or(|s| s < db_seq) || renewal.epoch.is_none() {
            // No sequence at all is a new (or emptied) Redis: reset quietly.
            return self.reset(db_seq, renewal.seq.is_some()).await;
        }
        self.0.seen_seq.fetch_max(db_seq, Ordering::SeqCst);
        if self.0.health.resume() {
            tracing::info!("redis cache in use");
        }
        self.0.local.renew(renewal.generation, sent_at);
        false
    }

    /// Redis lost writes it had confirmed (or everything): discard every page
    /// it holds by moving the epoch, and every copy in process.
    async fn reset(&self, db_seq: i64, forgot: bool) -> bool {
        let Some(redis) = &self.0.redis else {
            return false;
        };
        self.0.health.suspend();
        self.0.local.revoke();
        self.0.local.clear();
        let keys = &self.0.keys;
        let mut invocation = scripts::RESET.prepare_invoke();
        invocation
            .key(keys.generation())
            .key(keys.seq())
            .key(keys.epoch())
            .arg(super::new_generation())
            .arg(db_seq)
            .arg(format!("{db_seq:016x}"));
        let mut conn = redis.conn.clone();
        match tokio::time::timeout(
            self.0.write_timeout,
            invocation.invoke_async::<i64>(&mut conn),
        )
        .await
        {
            Ok(Ok(1)) => {
                if !forgot {
                    return true;
                }
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
                true
            }
            Ok(Ok(_)) => true, // another instance did it
            Ok(Err(e)) => {
                self.fail(&format!("reset failed: {e}"));
                false
            }
            Err(_) => {
                self.fail("reset timed out");
                false
            }
        }
    }

    /// Runs `reconcile` forever in the background.
    pub fn spawn_reconciler(&self) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RECONCILE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                cache.reconcile().await;
            }
        })
    }

    /// The renewal round trip: sends a batch of counts made in process and
    /// stamps this instance's flush; `None` when Redis did not take the write.
    pub(super) async fn renew(&self) -> Option<Renewal> {
        let redis = self.0.redis.as_ref()?;
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
        match tokio::time::timeout(
            self.0.write_timeout,
            invocation.invoke_async::<(String, String, String)>(&mut conn),
        )
        .await
        {
            Ok(Ok((generation, seq, epoch))) => {
                self.0.counts.confirm(batch.number);
                Some(Renewal {
                    generation: parse_hex(&generation),
                    seq: seq.parse().ok(),
                    epoch: parse_hex(&epoch),
                })
            }
            _ => {
                // Not counted as an error: it repeats every pass while Redis is away.
                self.0.health.fail();
                self.0.local.revoke();
                None
            }
        }
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
