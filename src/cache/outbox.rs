//! Invalidations stored in the database with the write that caused them.
//!
//! A write records the paths it made stale in the same transaction as the
//! change. The row is deleted once Redis confirms the keys are gone; while any
//! row is pending, no instance serves from the cache (see `PageCache`), so an
//! invalidation lost to a Redis outage, a timeout or a crash between commit
//! and invalidation can never let a stale page out.

use super::keys::Page;
use crate::db::{self, Db};
use sqlx::{Any, Transaction};

/// A committed, not yet confirmed invalidation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: i64,
    pub paths: String,
}

impl Pending {
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.paths.lines().filter(|p| !p.is_empty())
    }
}

pub async fn record(tx: &mut Transaction<'static, Any>, pages: &[Page]) -> sqlx::Result<i64> {
    let paths: Vec<String> = pages.iter().map(Page::path).collect();
    record_paths(tx, &paths.join("\n")).await
}

pub async fn record_paths(tx: &mut Transaction<'static, Any>, paths: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO cache_outbox (paths, created_at) VALUES ($1, $2) RETURNING id")
        .bind(paths)
        .bind(db::now())
        .fetch_one(&mut **tx)
        .await
}

pub async fn pending(db: &Db, limit: i64) -> sqlx::Result<Vec<Pending>> {
    sqlx::query_as::<_, Pending>("SELECT id, paths FROM cache_outbox ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(db)
        .await
}

pub async fn confirm(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM cache_outbox WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
