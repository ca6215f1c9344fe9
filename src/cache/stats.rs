//! What the debug panel shows: counts kept in Redis (shared by every
//! instance, exact, surviving restarts), the cached keys, and Redis itself.

use super::counts::Outcome;
use super::keys::Route;
use super::local::LEASE;
use super::log::{LOG_LEN, LogEntry};
use super::{PageCache, RECONCILE_EVERY, scripts};
use redis::AsyncCommands;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;

/// Most keys the panel lists; the count says how many there are in all.
const KEY_LIST_LIMIT: usize = 500;
/// An instance silent for this long has stopped; its counts are all in.
const INSTANCE_GONE_MS: i64 = 2000;

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Totals {
    pub hits: u64,
    pub misses: u64,
    pub bypasses: u64,
}

impl Totals {
    /// Hits over cache lookups, when there were any.
    pub fn hit_ratio(&self) -> Option<f64> {
        let lookups = self.hits + self.misses;
        (lookups > 0).then(|| self.hits as f64 / lookups as f64)
    }
}

#[derive(Debug, Serialize)]
pub struct RouteCounts {
    pub route: &'static str,
    #[serde(flatten)]
    pub counts: Totals,
    pub hit_ratio: Option<f64>,
    pub hit_percent: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KeyInfo {
    pub key: String,
    pub ttl: i64,
    pub size: u64,
}

#[derive(Debug, Serialize)]
pub struct MinutePoint {
    /// Unix time of the minute's start.
    pub minute: i64,
    pub hits: u64,
    pub misses: u64,
}

#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub hits: u64,
    pub misses: u64,
    pub bypasses: u64,
    pub errors: u64,
    pub hit_ratio: Option<f64>,
    pub redis_up: bool,
    /// Whether this instance is serving from the cache right now.
    pub cache_in_use: bool,
    pub redis_latency_ms: Option<f64>,
    pub redis_memory: Option<String>,
    pub prefix: String,
    pub key_count: usize,
    pub keys: Vec<KeyInfo>,
    pub routes: Vec<RouteCounts>,
    pub minutes: Vec<MinutePoint>,
    /// The last invalidations, newest first.
    pub invalidations: Vec<LogEntry>,
    /// Edge purges not yet confirmed, and how many of those are late
    /// (`None` without `FOLIO_EDGE_PURGE`).
    pub edge_pending: Option<i64>,
    pub edge_behind: Option<i64>,
}

impl PageCache {
    /// Everything the panel shows. Never fails: with Redis away it says so.
    pub async fn snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot {
            hits: 0,
            misses: 0,
            bypasses: 0,
            errors: 0,
            hit_ratio: None,
            redis_up: false,
            cache_in_use: self.usable(),
            redis_latency_ms: None,
            redis_memory: None,
            prefix: self.prefix().to_string(),
            key_count: 0,
            keys: Vec::new(),
            routes: Vec::new(),
            minutes: Vec::new(),
            invalidations: Vec::new(),
            edge_pending: None,
            edge_behind: None,
        };
        if self.edge().enabled() {
            snapshot.edge_pending = self.edge().pending(self.db()).await.ok();
            snapshot.edge_behind = self.edge().behind(self.db()).await.ok();
        }
        let fields = match self.read_redis(&mut snapshot).await {
            Ok(fields) => fields,
            Err(e) => {
                tracing::debug!(error = %e, "debug snapshot without redis");
                HashMap::new()
            }
        };
        let get = |name: &str| -> u64 {
            let stored = fields.get(name).copied().unwrap_or(0);
            let (outcome, subject) = match name.split_once(':') {
                Some((outcome, subject)) => (outcome, Some(subject)),
                None => (name, None),
            };
            let outcome = Outcome::ALL.into_iter().find(|o| o.as_str() == outcome);
            stored + outcome.map_or(0, |o| self.unsent(o, subject))
        };
        snapshot.hits = get("hits");
        snapshot.misses = get("misses");
        snapshot.bypasses = get("bypasses");
        snapshot.errors = get("errors");
        snapshot.hit_ratio = Totals {
            hits: snapshot.hits,
            misses: snapshot.misses,
            bypasses: snapshot.bypasses,
        }
        .hit_ratio();
        snapshot.routes = Route::ALL
            .iter()
            .map(|route| {
                let r = route.as_str();
                let counts = Totals {
                    hits: get(&format!("hits:{r}")),
                    misses: get(&format!("misses:{r}")),
                    bypasses: get(&format!("bypasses:{r}")),
                };
                let hit_ratio = counts.hit_ratio();
                let hit_percent = hit_ratio.map(|r| format!("{:.1}", r * 100.0));
                RouteCounts {
                    route: r,
                    counts,
                    hit_ratio,
                    hit_percent,
                }
            })
            .collect();
        snapshot
    }

    async fn read_redis(&self, snapshot: &mut Snapshot) -> anyhow::Result<HashMap<String, u64>> {
        let Some(redis) = self.redis() else {
            anyhow::bail!("caching is off");
        };
        let timeout = self.read_timeout() * 4;
        let mut conn = tokio::time::timeout(timeout, redis.pool.get()).await??;
        let started = Instant::now();
        let _: String =
            tokio::time::timeout(timeout, redis::cmd("PING").query_async(&mut *conn)).await??;
        snapshot.redis_latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        snapshot.redis_up = true;

        let info: String = tokio::time::timeout(
            timeout,
            redis::cmd("INFO").arg("memory").query_async(&mut *conn),
        )
        .await??;
        snapshot.redis_memory = info
            .lines()
            .find_map(|l| l.strip_prefix("used_memory_human:"))
            .map(|v| v.trim().to_string());

        // Exact counts: every live instance sends what it counted in process
        // on its next reconcile; wait for those sends to pass this moment.
        let (secs, micros): (i64, i64) =
            tokio::time::timeout(timeout, redis::cmd("TIME").query_async(&mut *conn)).await??;
        let asked_at = secs * 1000 + micros / 1000;
        // This instance's own send; if it fails, the wait below shows it late.
        let _ = self.renew().await;
        let deadline = Instant::now() + timeout;
        loop {
            let flushed: HashMap<String, i64> =
                tokio::time::timeout(timeout, conn.hgetall(self.keys().instances())).await??;
            let waiting = flushed
                .values()
                .filter(|&&t| t < asked_at && t > asked_at - INSTANCE_GONE_MS)
                .count();
            if waiting == 0 || Instant::now() > deadline {
                let gone: Vec<&String> = flushed
                    .iter()
                    .filter(|(_, t)| **t <= asked_at - INSTANCE_GONE_MS)
                    .map(|(id, _)| id)
                    .collect();
                if !gone.is_empty() {
                    let _: Result<i64, _> = conn.hdel(self.keys().instances(), gone).await;
                }
                break;
            }
            tokio::time::sleep(RECONCILE_EVERY / 2).await;
        }
        let fields: HashMap<String, u64> =
            tokio::time::timeout(timeout, conn.hgetall(self.keys().stats())).await??;

        // The last hour, one point a minute.
        let now_minute = chrono::Utc::now().timestamp() / 60;
        let minutes: Vec<i64> = (now_minute - 59..=now_minute).collect();
        let mut pipe = redis::pipe();
        for m in &minutes {
            pipe.cmd("HMGET")
                .arg(self.keys().minute(*m))
                .arg("hits")
                .arg("misses");
        }
        let rows: Vec<(Option<u64>, Option<u64>)> =
            tokio::time::timeout(timeout, pipe.query_async(&mut *conn)).await??;
        snapshot.minutes = minutes
            .iter()
            .zip(rows)
            .map(|(m, (hits, misses))| MinutePoint {
                minute: m * 60,
                hits: hits.unwrap_or(0),
                misses: misses.unwrap_or(0),
            })
            .collect();

        let log: Vec<String> =
            tokio::time::timeout(timeout, conn.zrevrange(self.keys().log(), 0, LOG_LEN - 1))
                .await??;
        snapshot.invalidations = log
            .iter()
            .filter_map(|e| serde_json::from_str(e).ok())
            .collect();

        let keys = self.scan_view_keys(&mut conn).await?;
        snapshot.key_count = keys.len();
        let listed: Vec<&String> = keys.iter().take(KEY_LIST_LIMIT).collect();
        if !listed.is_empty() {
            let mut pipe = redis::pipe();
            for key in &listed {
                pipe.cmd("TTL").arg(*key).cmd("STRLEN").arg(*key);
            }
            let details: Vec<i64> =
                tokio::time::timeout(timeout, pipe.query_async(&mut *conn)).await??;
            snapshot.keys = listed
                .iter()
                .zip(details.chunks(2))
                .filter(|(_, d)| d[0] >= -1) // -2: expired since the scan
                .map(|(key, d)| KeyInfo {
                    key: (*key).clone(),
                    ttl: d[0],
                    size: d[1].max(0) as u64,
                })
                .collect();
            snapshot.keys.sort_by(|a, b| a.key.cmp(&b.key));
        }
        Ok(fields)
    }

    /// Every `view/` key of this prefix, found with SCAN (never KEYS).
    pub(super) async fn scan_view_keys(
        &self,
        conn: &mut deadpool_redis::Connection,
    ) -> anyhow::Result<Vec<String>> {
        let pattern = self.keys().view_pattern();
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = tokio::time::timeout(
                self.read_timeout() * 4,
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut **conn),
            )
            .await??;
            keys.extend(batch);
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// Removes every `view/` key of this prefix and only those (SCAN, then
    /// UNLINK in batches with a new generation, so no render in flight can
    /// put an old page back). Returns how many keys were removed.
    pub async fn flush(&self) -> anyhow::Result<u64> {
        let Some(redis) = self.redis() else {
            return Ok(0);
        };
        self.clear_local();
        let mut conn = tokio::time::timeout(self.read_timeout() * 4, redis.pool.get()).await??;
        let keys = self.scan_view_keys(&mut conn).await?;
        let started = std::time::Instant::now();
        let mut removed = 0;
        for batch in keys.chunks(500) {
            let mut invocation = scripts::INVALIDATE.prepare_invoke();
            invocation
                .key(self.keys().generation())
                .key(self.keys().seq())
                .key(self.keys().epoch())
                .arg(super::new_generation())
                .arg(0)
                .arg("");
            for key in batch {
                invocation.key(key);
            }
            let n: Vec<u64> =
                tokio::time::timeout(self.read_timeout() * 4, invocation.invoke_async(&mut *conn))
                    .await??;
            removed += n.len() as u64;
        }
        self.log(LogEntry {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            cause: "flush".to_string(),
            keys: removed,
            confirmed_ms: started.elapsed().as_millis() as u64,
            rewarmed: 0,
        })
        .await;
        // Copies elsewhere carry the old generation; their leases run out now.
        tokio::time::sleep(LEASE).await;
        Ok(removed)
    }
}
