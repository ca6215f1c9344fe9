//! The write path: the one way to change what visitors see.
//!
//! `begin` opens a transaction and takes the write turn (bumping the single
//! `write_lock` row makes writers take turns on both databases, so the
//! stale pages computed inside are computed on a stable list, and numbers
//! every write). `Write::commit` records the invalidation in the outbox in
//! the same transaction, commits, and applies it before returning: a caller
//! cannot commit without invalidating, and answers only after the pages are
//! gone, from Redis, from every instance's copies and from the edge (or
//! says that the edge has not confirmed yet: `Committed::edge_confirmed`). Dropping a `Write` rolls it back; dropping an `Unapplied` (the
//! first half of a commit) leaves the invalidation to the reconcilers.

use crate::cache::PageCache;
use crate::cache::deps::Stale;
use crate::cache::edge::Purge;
use crate::cache::invalidate::Receipt;
use crate::cache::outbox;
use crate::db::Db;
use sqlx::{Any, Transaction};
use std::fmt;
use std::time::Instant;

/// What caused a write, for the invalidation log.
#[derive(Debug, Clone, Copy)]
pub enum Cause {
    Create(i64),
    Edit(i64),
    Delete(i64),
    GoLive(i64),
    Settings,
    Seed,
    /// A new alt text for an upload, shown in the posts that use it.
    MediaAlt(i64),
    /// An upload no post shows, removed.
    MediaDelete(i64),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Create(id) => write!(f, "create of post {id}"),
            Cause::Edit(id) => write!(f, "edit of post {id}"),
            Cause::Delete(id) => write!(f, "delete of post {id}"),
            Cause::GoLive(id) => write!(f, "scheduled go-live of post {id}"),
            Cause::Settings => write!(f, "settings"),
            Cause::Seed => write!(f, "seed"),
            Cause::MediaAlt(id) => write!(f, "alt text of upload {id}"),
            Cause::MediaDelete(id) => write!(f, "delete of upload {id}"),
        }
    }
}

/// An open write: a transaction holding the write turn.
pub struct Write {
    tx: Transaction<'static, Any>,
    seq: i64,
}

/// A committed write, its invalidation applied (or left to the reconciler).
#[derive(Debug)]
pub struct Committed {
    pub stale: Stale,
    /// Whether Redis confirmed the invalidation before the answer.
    pub confirmed: bool,
    /// Whether every edge cache confirmed its purge before the answer (true
    /// without one). When not, SPEC's promise after a `303` does not hold
    /// yet, so the write must not answer `303`.
    pub edge_confirmed: bool,
}

pub async fn begin(db: &Db) -> sqlx::Result<Write> {
    let mut tx = db.begin().await?;
    let seq: i64 =
        sqlx::query_scalar("UPDATE write_lock SET seq = seq + 1 WHERE id = 1 RETURNING seq")
            .fetch_one(&mut *tx)
            .await?;
    Ok(Write { tx, seq })
}

impl Write {
    pub fn tx(&mut self) -> &mut Transaction<'static, Any> {
        &mut self.tx
    }

    /// Commits the change with its invalidation, then applies it.
    pub async fn commit(
        self,
        cache: &PageCache,
        cause: Cause,
        stale: Stale,
    ) -> sqlx::Result<Committed> {
        let unapplied = self.commit_unapplied(cache, cause, stale).await?;
        Ok(unapplied.apply(cache).await)
    }

    /// Commits the change with its invalidation recorded, not yet applied.
    /// Dropping the result is what a writer that dies right after its commit
    /// leaves behind: every instance stays off the cache until a reconciler
    /// applies the invalidation.
    pub async fn commit_unapplied(
        mut self,
        cache: &PageCache,
        cause: Cause,
        stale: Stale,
    ) -> sqlx::Result<Unapplied> {
        let cause = cause.to_string();
        let outbox_id = outbox::record(&mut self.tx, self.seq, &cause, &stale).await?;
        let purges = cache.edge().record(&mut self.tx, &stale).await?;
        self.tx.commit().await?;
        let receipt = Receipt {
            outbox_id,
            seq: self.seq,
            cause,
            stale,
            committed: Instant::now(),
            committed_at: chrono::Utc::now(),
        };
        Ok(Unapplied { receipt, purges })
    }
}

/// A committed write whose invalidation is recorded but not yet applied.
#[must_use = "a write answers only after its invalidation is applied"]
pub struct Unapplied {
    receipt: Receipt,
    /// Its edge purges, recorded with it, sent by the writer itself.
    purges: Vec<Purge>,
}

impl Unapplied {
    /// Applies the invalidation, then sends the edge purges.
    pub async fn apply(self, cache: &PageCache) -> Committed {
        let Unapplied { receipt, purges } = self;
        let confirmed = cache.invalidate(&receipt).await;
        // After the lease wait: no instance can produce the old page any more.
        let edge_confirmed = cache.edge().send_own(cache.db(), &purges).await;
        tracing::info!(
            cause = %receipt.cause,
            stale = %receipt.stale.describe(),
            confirmed,
            edge_confirmed,
            "invalidated"
        );
        Committed {
            stale: receipt.stale,
            confirmed,
            edge_confirmed,
        }
    }
}
