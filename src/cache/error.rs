//! Why a Redis operation of the cache failed: the cause it logs when it
//! stops using Redis, and what an operation answers instead of a bare
//! `false` or `None`.

use std::fmt;
use std::future::Future;
use std::time::Duration;

/// The cache's Redis operations, as causes name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisOp {
    Lookup,
    Fill,
    Invalidation,
    Reset,
    Renewal,
    /// Reading the generation to store a re-render under.
    Rewarm,
    /// Appending to the invalidation log.
    Log,
}

impl fmt::Display for RedisOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RedisOp::Lookup => "lookup",
            RedisOp::Fill => "fill",
            RedisOp::Invalidation => "invalidation",
            RedisOp::Reset => "reset",
            RedisOp::Renewal => "renewal",
            RedisOp::Rewarm => "rewarm",
            RedisOp::Log => "log",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// No Redis is configured (`REDIS_URL=off`).
    #[error("caching is off")]
    Off,
    #[error("{0} timed out")]
    Timeout(RedisOp),
    #[error("{0} failed: {1}")]
    Redis(RedisOp, #[source] redis::RedisError),
    #[error("malformed {0} reply")]
    Malformed(RedisOp),
    /// Redis holds an older write than this instance saw it hold.
    #[error("redis lost its state or went back in time")]
    Forgot,
}

/// One Redis round trip, given up after `limit`.
pub(crate) async fn within<T>(
    op: RedisOp,
    limit: Duration,
    call: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, CacheError> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(CacheError::Redis(op, e)),
        Err(_) => Err(CacheError::Timeout(op)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_read_as_before() {
        assert_eq!(
            CacheError::Timeout(RedisOp::Invalidation).to_string(),
            "invalidation timed out"
        );
        assert_eq!(
            CacheError::Malformed(RedisOp::Lookup).to_string(),
            "malformed lookup reply"
        );
    }
}
