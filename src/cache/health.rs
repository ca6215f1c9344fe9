//! Whether this instance may use Redis for pages: one state, changed in
//! one place. Any failure suspends the cache at once; only the reconciler,
//! having seen Redis accept a write and every pending invalidation applied,
//! puts it back in use, and never over a failure it did not see.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Default)]
pub struct Health {
    in_use: AtomicBool,
    /// Bumped on every failure, so a reconcile that began before one cannot
    /// resume the cache over it.
    failures: AtomicU64,
}

/// What the reconciler saw when it started, to resume from.
#[derive(Debug, Clone, Copy)]
pub struct Seen(u64);

impl Health {
    pub fn in_use(&self) -> bool {
        self.in_use.load(Ordering::SeqCst)
    }

    /// Stops using the cache; true if it was in use.
    pub fn fail(&self) -> bool {
        self.failures.fetch_add(1, Ordering::SeqCst);
        self.in_use.swap(false, Ordering::SeqCst)
    }

    /// Stops using the cache without counting a failure (work is pending).
    pub fn suspend(&self) {
        self.in_use.store(false, Ordering::SeqCst);
    }

    pub fn seen(&self) -> Seen {
        Seen(self.failures.load(Ordering::SeqCst))
    }

    /// Whether a failure happened since `seen`.
    pub fn failed_since(&self, seen: Seen) -> bool {
        self.failures.load(Ordering::SeqCst) != seen.0
    }

    /// Puts the cache in use; true if it was not.
    pub fn resume(&self) -> bool {
        !self.in_use.swap(true, Ordering::SeqCst)
    }
}
