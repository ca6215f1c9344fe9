//! Invalidations stored in the database with the write that caused them.
//!
//! A write records the pages it made stale in the same transaction as the
//! change. The row is deleted once Redis confirms the keys are gone; while any
//! row is pending, no instance serves from the cache (see `reconcile`), so an
//! invalidation lost to a Redis outage, a timeout or a crash between commit
//! and invalidation can never let a stale page out. Only an instance with
//! Redis deletes a row: one without it leaves the row for those that have it.

use super::deps::Stale;
use super::keys::Page;
use crate::db::{self, Db};
use sqlx::{Any, AnyConnection, Row, Transaction};

/// A committed, not yet confirmed invalidation.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub seq: i64,
    pub cause: String,
    everything: i64,
    paths: String,
}

impl Pending {
    pub fn stale(&self) -> Stale {
        if self.everything != 0 {
            return Stale::Everything;
        }
        Stale::Pages(self.paths.lines().filter_map(Page::from_path).collect())
    }
}

/// Records the invalidation of a write in its transaction.
pub async fn record(
    tx: &mut Transaction<'static, Any>,
    seq: i64,
    cause: &str,
    stale: &Stale,
) -> sqlx::Result<i64> {
    let paths: Vec<String> = stale.pages().iter().map(Page::path).collect();
    sqlx::query_scalar(
        "INSERT INTO cache_outbox (paths, seq, cause, everything, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(paths.join("\n"))
    .bind(seq)
    .bind(cause)
    .bind(i64::from(matches!(stale, Stale::Everything)))
    .bind(db::now())
    .fetch_one(&mut **tx)
    .await
}

/// The newest write's sequence number and the oldest pending invalidations,
/// in one statement: one round trip, and one snapshot, so a write seen in
/// the sequence is also seen in the outbox (until Redis applied it).
pub async fn state(conn: &mut AnyConnection, limit: i64) -> sqlx::Result<(i64, Vec<Pending>)> {
    let rows = sqlx::query(
        "SELECT w.seq AS write_seq, o.id, o.seq, o.cause, o.everything, o.paths \
         FROM write_lock w LEFT JOIN \
         (SELECT id, seq, cause, everything, paths FROM cache_outbox ORDER BY id LIMIT $1) o \
         ON 1 = 1 WHERE w.id = 1 ORDER BY o.id",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let write_seq = match rows.first() {
        Some(row) => row.try_get("write_seq")?,
        None => return Err(sqlx::Error::RowNotFound),
    };
    let mut pending = Vec::new();
    for row in &rows {
        // The one row of an empty outbox has no id.
        let Some(id) = row.try_get::<Option<i64>, _>("id")? else {
            continue;
        };
        pending.push(Pending {
            id,
            seq: row.try_get("seq")?,
            cause: row.try_get("cause")?,
            everything: row.try_get("everything")?,
            paths: row.try_get("paths")?,
        });
    }
    Ok((write_seq, pending))
}

pub async fn confirm(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM cache_outbox WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The sequence number of the newest committed write.
pub async fn write_seq(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT seq FROM write_lock WHERE id = 1")
        .fetch_one(db)
        .await
}
