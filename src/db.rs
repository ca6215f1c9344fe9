//! The database: one binary, SQLite or PostgreSQL chosen at run time from
//! `DATABASE_URL`. Queries use sqlx's `Any` driver with portable SQL (`$n`
//! placeholders, integer timestamps and flags), so one set runs on both.

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::time::Duration;

pub type Db = AnyPool;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Dialect::Postgres)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://")
        }
    }
}

/// Connects and applies pending migrations.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    install_default_drivers();
    let dialect = Dialect::of(url)?;
    let mut options = AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(5))
        .max_connections(match dialect {
            Dialect::Sqlite => 8,
            Dialect::Postgres => 10,
        });
    if dialect == Dialect::Sqlite {
        // WAL lets readers run beside the writer and two processes share the file.
        options = options.after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                )
                .await?;
                Ok(())
            })
        });
    }
    let pool = options
        .connect(url)
        .await
        .with_context(|| format!("cannot open the database ({})", redact(url)))?;
    let migrator = match dialect {
        Dialect::Sqlite => &SQLITE_MIGRATOR,
        Dialect::Postgres => &POSTGRES_MIGRATOR,
    };
    // SQLite has no migration lock: a second process starting at the same
    // moment can find a migration half-way applied by the first. Its retry
    // then sees it applied.
    let mut attempt = 1;
    loop {
        match migrator.run(&pool).await {
            Ok(()) => return Ok(pool),
            Err(e) if attempt < 3 => {
                tracing::warn!(error = %e, attempt, "migrations failed; retrying");
                tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(anyhow::Error::new(e).context("cannot apply database migrations")),
        }
    }
}

/// Seconds since the epoch: the unit of every timestamp column. This
/// instance's wall clock, for what only this instance compares (sessions,
/// the outbox's age); what every instance must agree on uses `clock`.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The database's time in seconds since the epoch: the one clock of the
/// deployment, so an instance whose wall clock is wrong (an NTP step, a VM
/// resumed from suspend) cannot put a scheduled post live early. On SQLite
/// that is the host's clock, which every instance on the file shares.
pub async fn clock<'e>(ex: impl Executor<'e, Database = sqlx::Any>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT unixepoch()").fetch_one(ex).await
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// Reads a value from the settings table, inserting `make()` first if absent.
/// Safe when two instances start at once: the first insert wins for both.
pub async fn setting_or_insert(
    db: &Db,
    name: &str,
    make: impl FnOnce() -> String,
) -> anyhow::Result<String> {
    sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(make())
        .execute(db)
        .await
        .context("cannot write settings")?;
    let value: String = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_one(db)
        .await
        .context("cannot read settings")?;
    Ok(value)
}

/// Errors that say the database cannot be reached at all, rather than that
/// one statement failed.
pub fn is_connection_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: shutting down, cannot connect now, too many
            // connections, the connection exception class 08, the database
            // gone, or closed to connections (`ALLOW_CONNECTIONS false`).
            matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300" | "3D000")
                || code.starts_with("08")
                || (code == "55000" && db.message().contains("accepting connections"))
                // SQLite: SQLITE_IOERR (10) and SQLITE_CANTOPEN (14), with extended codes.
                || matches!(code.parse::<i64>(), Ok(c) if c & 0xff == 10 || c & 0xff == 14)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_failures_mark_the_database_down() {
        assert!(is_connection_failure(&sqlx::Error::PoolTimedOut));
        assert!(is_connection_failure(&sqlx::Error::Io(
            std::io::ErrorKind::ConnectionRefused.into()
        )));
        assert!(!is_connection_failure(&sqlx::Error::RowNotFound));
    }
}
