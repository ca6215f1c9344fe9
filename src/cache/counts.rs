//! Counts made in process (local hits, bypasses, errors), batched into Redis
//! by the reconciler so counting never adds a round trip to a hit.

use super::keys::Route;
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

/// What a count is about: a page route, or Redis itself (for errors).
pub const SUBJECTS: [&str; 4] = ["index", "post", "feed", "redis"];

fn subject_index(route: Option<Route>) -> usize {
    match route {
        Some(Route::Index) => 0,
        Some(Route::Post) => 1,
        Some(Route::Feed) => 2,
        None => 3,
    }
}

#[derive(Default)]
pub struct Counts {
    cells: [AtomicU64; 16],
}

impl Counts {
    pub fn add(&self, outcome: Outcome, route: Option<Route>, n: u64) {
        self.cells[outcome as usize * 4 + subject_index(route)].fetch_add(n, Ordering::Relaxed);
    }

    /// Takes every non-zero count, as (outcome, subject, n).
    pub fn take(&self) -> Vec<(Outcome, &'static str, u64)> {
        let mut taken = Vec::new();
        for outcome in Outcome::ALL {
            for (i, subject) in SUBJECTS.iter().enumerate() {
                let n = self.cells[outcome as usize * 4 + i].swap(0, Ordering::Relaxed);
                if n > 0 {
                    taken.push((outcome, *subject, n));
                }
            }
        }
        taken
    }

    /// Counts not yet sent, without taking them.
    pub fn peek(&self, outcome: Outcome, subject: Option<&str>) -> u64 {
        SUBJECTS
            .iter()
            .enumerate()
            .filter(|(_, s)| subject.is_none_or(|want| want == **s))
            .map(|(i, _)| self.cells[outcome as usize * 4 + i].load(Ordering::Relaxed))
            .sum()
    }

    /// Puts back counts that could not be sent.
    pub fn restore(&self, taken: &[(Outcome, &'static str, u64)]) {
        for (outcome, subject, n) in taken {
            if let Some(i) = SUBJECTS.iter().position(|s| s == subject) {
                self.cells[*outcome as usize * 4 + i].fetch_add(*n, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_once_and_restored_on_failure() {
        let c = Counts::default();
        c.add(Outcome::Hits, Some(Route::Post), 3);
        c.add(Outcome::Errors, None, 1);
        assert_eq!(c.peek(Outcome::Hits, None), 3);
        let taken = c.take();
        assert_eq!(
            taken,
            vec![(Outcome::Hits, "post", 3), (Outcome::Errors, "redis", 1)]
        );
        assert!(c.take().is_empty());
        c.restore(&taken);
        assert_eq!(c.peek(Outcome::Hits, Some("post")), 3);
    }
}
