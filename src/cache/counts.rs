//! Counts made in process (every hit, miss, bypass and error), batched into
//! Redis by the reconciler so counting never adds a round trip to a hit, and
//! so an answer is counted as it was given: never by a lookup this instance
//! gave up on and Redis ran later.
//!
//! A batch is sent until Redis confirms it, always with the same number and
//! the same counts: a send that timed out but ran later is then skipped by
//! Redis (see `scripts::FLUSH`), so nothing is counted twice.

use super::keys::Route;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hits,
    Misses,
    Bypasses,
    Errors,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Hits,
        Outcome::Misses,
        Outcome::Bypasses,
        Outcome::Errors,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hits => "hits",
            Outcome::Misses => "misses",
            Outcome::Bypasses => "bypasses",
            Outcome::Errors => "errors",
        }
    }
}

const SUBJECTS: usize = Route::ALL.len() + 1;

/// What a count is about: a page route, or Redis itself (for errors).
fn subject_name(i: usize) -> &'static str {
    Route::ALL.get(i).map_or("redis", |r| r.as_str())
}

fn subject_index(route: Option<Route>) -> usize {
    route.map_or(SUBJECTS - 1, |r| {
        Route::ALL
            .iter()
            .position(|x| *x == r)
            .unwrap_or(SUBJECTS - 1)
    })
}

/// One count to send: outcome, subject, n.
pub type Count = (Outcome, &'static str, u64);

/// A batch being sent: its number and counts.
#[derive(Debug, Clone)]
pub struct Batch {
    pub number: u64,
    pub counts: Vec<Count>,
}

#[derive(Default)]
pub struct Counts {
    cells: [[AtomicU64; SUBJECTS]; 4],
    batch: Mutex<Option<Batch>>,
    last_number: AtomicU64,
}

impl Counts {
    pub fn add(&self, outcome: Outcome, route: Option<Route>, n: u64) {
        self.cells[outcome as usize][subject_index(route)].fetch_add(n, Ordering::Relaxed);
    }

    /// The batch to send: the unconfirmed one again, or a new one of every
    /// count made since.
    pub fn batch(&self) -> Batch {
        let mut batch = self.batch.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pending) = batch.as_ref() {
            return pending.clone();
        }
        let mut counts = Vec::new();
        for outcome in Outcome::ALL {
            for i in 0..SUBJECTS {
                let n = self.cells[outcome as usize][i].swap(0, Ordering::Relaxed);
                if n > 0 {
                    counts.push((outcome, subject_name(i), n));
                }
            }
        }
        let number = self.last_number.fetch_add(1, Ordering::Relaxed) + 1;
        let new = Batch { number, counts };
        *batch = Some(new.clone());
        new
    }

    /// Redis has added the batch `number`.
    pub fn confirm(&self, number: u64) {
        let mut batch = self.batch.lock().unwrap_or_else(|p| p.into_inner());
        if batch.as_ref().is_some_and(|b| b.number == number) {
            *batch = None;
        }
    }

    /// Counts not yet confirmed by Redis, for the panel.
    pub fn unsent(&self, outcome: Outcome, subject: Option<&str>) -> u64 {
        let wanted = |name: &str| subject.is_none_or(|want| want == name);
        let cells: u64 = (0..SUBJECTS)
            .filter(|&i| wanted(subject_name(i)))
            .map(|i| self.cells[outcome as usize][i].load(Ordering::Relaxed))
            .sum();
        let batch = self.batch.lock().unwrap_or_else(|p| p.into_inner());
        let pending: u64 = batch.as_ref().map_or(0, |b| {
            b.counts
                .iter()
                .filter(|(o, s, _)| *o == outcome && wanted(s))
                .map(|(_, _, n)| n)
                .sum()
        });
        cells + pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unconfirmed_batch_is_sent_again_unchanged() {
        let c = Counts::default();
        c.add(Outcome::Hits, Some(Route::Post), 3);
        c.add(Outcome::Errors, None, 1);
        let first = c.batch();
        assert_eq!(
            first.counts,
            vec![(Outcome::Hits, "post", 3), (Outcome::Errors, "redis", 1)]
        );
        c.add(Outcome::Hits, Some(Route::Post), 2);
        let again = c.batch();
        assert_eq!(again.number, first.number);
        assert_eq!(again.counts, first.counts);
        assert_eq!(c.unsent(Outcome::Hits, Some("post")), 5);
        c.confirm(first.number);
        let next = c.batch();
        assert_eq!(next.number, first.number + 1);
        assert_eq!(next.counts, vec![(Outcome::Hits, "post", 2)]);
    }
}
