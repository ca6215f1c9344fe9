//! The invalidation log: the last 50 invalidations, newest first by commit
//! time, kept in Redis (a sorted set scored by `at`) so every instance's
//! writes show in one list.

use serde::{Deserialize, Serialize};

pub const LOG_LEN: isize = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    /// When the write committed, RFC 3339.
    pub at: String,
    /// What caused it: `edit of post 3`, `settings`, `go-live of post 9`…
    pub cause: String,
    /// Keys removed (for a change of every page, the recently stored pages
    /// found to re-render; 0 with re-warm off).
    pub keys: u64,
    /// From commit to Redis's confirmation.
    pub confirmed_ms: u64,
    /// Pages rendered again in the background.
    pub rewarmed: u64,
}
