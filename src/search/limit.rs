//! Searches per client: a token bucket per client address (the socket peer,
//! never a forwarded header, which anyone can forge), refilled at `rate` a
//! second and holding `2 × rate`, so a reader typing never notices it and a
//! crawler cannot turn search into a load test of the database. Kept in
//! process, in a bounded map: each instance limits on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Beyond this many tracked addresses, full buckets are dropped first.
const MAX_TRACKED: usize = 10_000;

pub struct SearchLimit {
    /// Searches a second; 0 turns the limit off.
    rate: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl SearchLimit {
    pub fn new(rate: u32) -> Self {
        SearchLimit {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.rate) * 2.0
    }

    /// Takes one search for `ip`: `Ok` if allowed, else how long until the
    /// next one is.
    pub fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        self.take_at(ip, Instant::now())
    }

    fn take_at(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.rate == 0 {
            return Ok(());
        }
        let rate = f64::from(self.rate);
        let capacity = self.capacity();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&ip) {
            buckets.retain(|_, b| level(b, now, rate, capacity) < capacity);
            if buckets.len() >= MAX_TRACKED {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens = level(bucket, now, rate, capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// The bucket's tokens at `now`.
fn level(bucket: &Bucket, now: Instant, rate: f64, capacity: f64) -> f64 {
    let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * rate;
    (bucket.tokens + refill).min(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_one_search_per_refill() {
        let limit = SearchLimit::new(5);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let start = Instant::now();
        for _ in 0..10 {
            assert!(limit.take_at(ip, start).is_ok());
        }
        let wait = limit.take_at(ip, start).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(200));
        assert!(limit.take_at("10.0.0.1".parse().unwrap(), start).is_ok());
        let later = start + Duration::from_millis(200);
        assert!(limit.take_at(ip, later).is_ok());
        assert!(limit.take_at(ip, later).is_err());
    }

    #[test]
    fn zero_turns_it_off() {
        let limit = SearchLimit::new(0);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..1000 {
            assert!(limit.take(ip).is_ok());
        }
    }
}
