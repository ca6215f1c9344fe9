//! Reading a page and filling it after a miss.

use super::entry::{EPOCH_AT, Entry, HEADER_LEN};
use super::keys::Page;
use super::local::UnderLease;
use super::{PageCache, counts::Outcome, parse_hex, scripts};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long per-minute counts are kept, for the hit-ratio chart.
pub(super) const MINUTE_TTL_SECS: u64 = 2 * 60 * 60;

pub(super) enum Lookup {
    Hit(Arc<Entry>),
    /// Render, then fill under this generation, with this epoch.
    Miss {
        generation: String,
        epoch: u64,
    },
    Unavailable,
}

impl PageCache {
    /// A copy in process under a current lease costs nothing; otherwise one
    /// round trip: the lookup script compares the header of the copy when
    /// there is one (so an unchanged page crosses the wire as a few bytes),
    /// returns the page on a hit, and counts the outcome.
    pub(super) async fn lookup(&self, page: &Page) -> Lookup {
        let Some(redis) = &self.0.redis else {
            return Lookup::Unavailable;
        };
        if !self.0.health.in_use() {
            return Lookup::Unavailable;
        }
        match self.0.local.under_lease(page) {
            UnderLease::NoLease => return Lookup::Unavailable,
            UnderLease::Fresh(entry) => {
                self.0.counts.add(Outcome::Hits, Some(page.route()), 1);
                return Lookup::Hit(entry);
            }
            UnderLease::Ask => {}
        }
        let copy = self.0.local.any(page);
        let key = self.0.keys.view(page);
        let keys = &self.0.keys;
        let mut invocation = scripts::LOOKUP.prepare_invoke();
        invocation
            .key(&key)
            .key(keys.generation())
            .key(keys.epoch())
            .key(keys.seq())
            .arg(copy.as_ref().map_or("", |e| e.header()))
            .arg(HEADER_LEN)
            .arg(super::new_generation())
            .arg(EPOCH_AT)
            .arg(self.0.seen_seq.load(Ordering::SeqCst));
        let mut conn = redis.conn.clone();
        let started = Instant::now();
        let reply = tokio::time::timeout(
            self.0.read_timeout,
            invocation.invoke_async::<redis::Value>(&mut conn),
        )
        .await;
        metrics::histogram!("folio_redis_seconds", "op" => "lookup")
            .record(started.elapsed().as_secs_f64());
        let items = match reply {
            Ok(Ok(redis::Value::Array(items))) => items,
            Ok(Ok(other)) => {
                self.fail(&format!("unexpected lookup reply {other:?}"));
                return Lookup::Unavailable;
            }
            Ok(Err(e)) => {
                self.fail(&format!("lookup failed: {e}"));
                return Lookup::Unavailable;
            }
            Err(_) => {
                self.fail("lookup timed out");
                return Lookup::Unavailable;
            }
        };
        let mut items = items.into_iter();
        let mut next_text = || items.next().and_then(text);
        let kind = next_text();
        let generation = next_text();
        let epoch = next_text().and_then(|e| parse_hex(&e));
        let ttl = next_text()
            .and_then(|t| t.parse::<u64>().ok())
            .map(Duration::from_millis);
        let (Some(kind), Some(generation)) = (kind, generation) else {
            self.fail("malformed lookup reply");
            return Lookup::Unavailable;
        };
        let tag = parse_hex(&generation);
        let found = match (kind.as_str(), epoch) {
            ("1", Some(_)) => match (copy, tag, ttl) {
                (Some(entry), Some(tag), Some(ttl)) => {
                    self.0.local.put(page, entry.clone(), tag, ttl);
                    Lookup::Hit(entry)
                }
                (Some(entry), _, _) => Lookup::Hit(entry),
                (None, _, _) => Lookup::Unavailable,
            },
            ("2", Some(epoch)) => {
                let value = match items.next() {
                    Some(redis::Value::BulkString(bytes)) => Some(bytes),
                    _ => None,
                };
                match value.and_then(Entry::parse) {
                    Some(entry) => {
                        let entry = Arc::new(entry);
                        if let (Some(tag), Some(ttl)) = (tag, ttl) {
                            self.0.local.put(page, entry.clone(), tag, ttl);
                        }
                        Lookup::Hit(entry)
                    }
                    // Expired between the two reads, or not ours: render and refill.
                    None => {
                        self.0.local.remove(page);
                        Lookup::Miss { generation, epoch }
                    }
                }
            }
            // The copy stays: it may be a render of this very generation that
            // a concurrent miss just stored, which `render_once` will reuse.
            ("0", Some(epoch)) => Lookup::Miss { generation, epoch },
            ("3", _) => {
                self.fail("redis lost its state or went back in time");
                Lookup::Unavailable
            }
            _ => {
                self.fail("malformed lookup reply");
                Lookup::Unavailable
            }
        };
        // Counted in process, as answered: Redis may still run a lookup
        // this instance gave up on and answered as a BYPASS.
        let outcome = match &found {
            Lookup::Hit(_) => Outcome::Hits,
            Lookup::Miss { .. } => Outcome::Misses,
            Lookup::Unavailable => return found,
        };
        self.0.counts.add(outcome, Some(page.route()), 1);
        found
    }

    /// Stores a render under the generation its miss saw, if still current.
    pub(super) async fn fill(&self, page: &Page, generation: &str, entry: &Arc<Entry>) -> bool {
        let Some(redis) = &self.0.redis else {
            return false;
        };
        let key = self.0.keys.view(page);
        let ttl = self.0.ttls.of(page);
        let mut invocation = scripts::FILL.prepare_invoke();
        invocation
            .key(&key)
            .key(self.0.keys.generation())
            .key(self.0.keys.read())
            .arg(generation)
            .arg(entry.encode())
            .arg(ttl.as_secs())
            .arg(page.path());
        let mut conn = redis.conn.clone();
        let reply = tokio::time::timeout(
            self.0.write_timeout,
            invocation.invoke_async::<i64>(&mut conn),
        )
        .await;
        match reply {
            Ok(Ok(1)) => {
                if let Some(tag) = parse_hex(generation) {
                    self.0.local.put(page, entry.clone(), tag, ttl);
                }
                true
            }
            Ok(Ok(_)) => {
                tracing::debug!(page = %page.path(), "fill skipped: a write happened during the render");
                false
            }
            Ok(Err(e)) => {
                self.fail(&format!("fill failed: {e}"));
                false
            }
            Err(_) => {
                self.fail("fill timed out");
                false
            }
        }
    }
}

/// A reply item as text: Lua numbers arrive as integers, strings as bulk strings.
fn text(value: redis::Value) -> Option<String> {
    match value {
        redis::Value::Int(i) => Some(i.to_string()),
        redis::Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        redis::Value::SimpleString(s) => Some(s),
        _ => None,
    }
}
