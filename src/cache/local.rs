//! Pages kept in process, served without a Redis round trip only under a
//! lease: a recent confirmation that the cache generation is unchanged and
//! that no invalidation is pending.
//!
//! The lease is renewed by the reconciler; it runs out `LEASE` after the
//! renewal was *sent*. A write answers no earlier than `LEASE` after its
//! commit, so every lease taken before the write has run out by then: a
//! renewal sent after the commit either sees the pending invalidation in the
//! database or, once it is applied, the new generation, which no old copy
//! carries. That makes these copies exactly as fresh as Redis itself.

use super::Entry;
use super::keys::Page;
use arc_swap::ArcSwapOption;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long a renewal lets copies be served without asking Redis.
pub const LEASE: Duration = Duration::from_millis(150);
/// Bytes of pages kept in process. A copy counts as its compressed bodies
/// plus its plain page, which it keeps once a client asked for identity.
const BUDGET: usize = 16 * 1024 * 1024;
/// What a copy costs besides its bodies, roughly (page, header, entry,
/// its three ETags).
const OVERHEAD: usize = 256;

/// What a copy counts against the budget.
fn cost(entry: &Entry) -> usize {
    entry.stored_len() + entry.plain_len() + OVERHEAD
}

struct Lease {
    /// `None` until a generation exists in Redis.
    generation: Option<u64>,
    until: Instant,
}

struct Copy {
    entry: Arc<Entry>,
    generation: u64,
    /// A copy never outlives the Redis entry it was read from.
    expires: Instant,
}

#[derive(Default)]
pub struct LocalCopies {
    /// Read on every hit: an atomic pointer, not a mutex, so a worker that
    /// is preempted while looking never makes the other workers wait.
    lease: ArcSwapOption<Lease>,
    /// Renewals and revocations, one at a time (a renewal never shortens).
    renewing: Mutex<()>,
    /// By page rather than key name: a hit then builds no string. foldhash
    /// (seeded per process) rather than SipHash: only pages that rendered
    /// are ever inserted, and a lookup under the lease costs about half as
    /// much (bench/profile: 525 instructions with SipHash, 292 with foldhash).
    copies: RwLock<foldhash::HashMap<Page, Copy>>,
    bytes: AtomicUsize,
}

/// What the lease allows for one page.
pub enum UnderLease {
    /// No current lease: the cache may not be used at all.
    NoLease,
    /// A copy of the leased generation: serve it.
    Fresh(Arc<Entry>),
    /// No such copy: ask Redis.
    Ask,
}

impl LocalCopies {
    /// One look at the lease, then at the copy: this runs on every hit.
    pub fn under_lease(&self, page: &Page) -> UnderLease {
        let generation = match &*self.lease.load() {
            Some(lease) if Instant::now() < lease.until => lease.generation,
            _ => return UnderLease::NoLease,
        };
        match generation.and_then(|g| self.of_generation(page, g)) {
            Some(entry) => UnderLease::Fresh(entry),
            None => UnderLease::Ask,
        }
    }

    /// Whether a renewal sent less than a lease ago found no pending
    /// invalidation. Redis itself is only read under this condition too: a
    /// write that could not reach Redis keeps its pages there until some
    /// instance applies its outbox row, and this is how the others notice.
    pub fn clean(&self) -> bool {
        self.lease
            .load()
            .as_ref()
            .is_some_and(|l| Instant::now() < l.until)
    }

    /// The copy of `page` whatever its generation, to send its header along
    /// with a Redis lookup.
    pub fn any(&self, page: &Page) -> Option<Arc<Entry>> {
        let copies = self.copies.read().unwrap_or_else(|p| p.into_inner());
        copies
            .get(page)
            .filter(|c| Instant::now() < c.expires)
            .map(|c| c.entry.clone())
    }

    /// The copy of `page` if it was stored under `generation`.
    pub fn of_generation(&self, page: &Page, generation: u64) -> Option<Arc<Entry>> {
        let copies = self.copies.read().unwrap_or_else(|p| p.into_inner());
        copies
            .get(page)
            .filter(|c| c.generation == generation && Instant::now() < c.expires)
            .map(|c| c.entry.clone())
    }

    pub fn put(&self, page: &Page, entry: Arc<Entry>, generation: u64, ttl: Duration) {
        let size = cost(&entry);
        let mut copies = self.copies.write().unwrap_or_else(|p| p.into_inner());
        if self.bytes.load(Ordering::Relaxed) + size > BUDGET {
            // Copies are only an optimisation: dropping them all is always safe.
            copies.clear();
            self.bytes.store(0, Ordering::Relaxed);
        }
        let old = copies.insert(
            page.clone(),
            Copy {
                entry,
                generation,
                expires: Instant::now() + ttl,
            },
        );
        self.bytes.fetch_add(size, Ordering::Relaxed);
        if let Some(old) = old {
            self.bytes.fetch_sub(cost(&old.entry), Ordering::Relaxed);
        }
    }

    pub fn remove(&self, page: &Page) {
        let mut copies = self.copies.write().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = copies.remove(page) {
            self.bytes.fetch_sub(cost(&old.entry), Ordering::Relaxed);
        }
    }

    pub fn clear(&self) {
        let mut copies = self.copies.write().unwrap_or_else(|p| p.into_inner());
        copies.clear();
        self.bytes.store(0, Ordering::Relaxed);
    }

    /// A renewal sent at `sent_at` found no pending invalidation and
    /// `generation`. Renewals overlap, and one sent earlier may answer later:
    /// it never shortens the lease.
    pub fn renew(&self, generation: Option<u64>, sent_at: Instant) {
        let until = sent_at + LEASE;
        let _one_at_a_time = self.renewing.lock().unwrap_or_else(|p| p.into_inner());
        if self.lease.load().as_ref().is_none_or(|l| l.until < until) {
            self.lease
                .store(Some(Arc::new(Lease { generation, until })));
        }
    }

    pub fn revoke(&self) {
        let _one_at_a_time = self.renewing.lock().unwrap_or_else(|p| p.into_inner());
        self.lease.store(None);
    }
}
