//! Login throttling per client address and username: after `MAX_FAILURES`
//! failed attempts within `WINDOW`, further attempts answer `429` until the
//! window has passed. Kept in process: each instance throttles on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Beyond this many tracked pairs, expired ones are dropped first.
const MAX_TRACKED: usize = 10_000;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<(IpAddr, String), (u32, Instant)>>,
}

impl LoginThrottle {
    pub fn is_blocked(&self, ip: IpAddr, username: &str) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        matches!(
            failures.get(&(ip, username.to_string())),
            Some((count, since)) if *count >= MAX_FAILURES && since.elapsed() < WINDOW
        )
    }

    pub fn record_failure(&self, ip: IpAddr, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, (_, since)| since.elapsed() < WINDOW);
            if failures.len() >= MAX_TRACKED {
                failures.clear();
            }
        }
        let entry = failures
            .entry((ip, username.to_string()))
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    pub fn record_success(&self, ip: IpAddr, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&(ip, username.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_repeated_failures_for_that_pair_only() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(!t.is_blocked(ip, "admin"));
            t.record_failure(ip, "admin");
        }
        assert!(t.is_blocked(ip, "admin"));
        assert!(!t.is_blocked(ip, "other"));
        assert!(!t.is_blocked("10.0.0.1".parse().unwrap(), "admin"));
    }

    #[test]
    fn success_clears_the_count() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..MAX_FAILURES - 1 {
            t.record_failure(ip, "admin");
        }
        t.record_success(ip, "admin");
        t.record_failure(ip, "admin");
        assert!(!t.is_blocked(ip, "admin"));
    }
}
