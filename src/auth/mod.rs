//! Admins: accounts, password checks, sessions, CSRF tokens and login throttling.

pub mod csrf;
pub mod password;
pub mod session;
pub mod session_gate;
pub mod throttle;

use crate::db::{self, Db};
use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use std::io::Write;

pub const USERNAME_MAX: usize = 64;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminAccount {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
}

pub async fn find(db: &Db, username: &str) -> sqlx::Result<Option<AdminAccount>> {
    sqlx::query_as::<_, AdminAccount>(
        "SELECT id, username, password_hash FROM admins WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(db)
    .await
}

pub fn valid_username(username: &str) -> bool {
    !username.is_empty()
        && username.chars().count() <= USERNAME_MAX
        && !username
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
}

/// Creates the admin, or resets its password when it exists.
pub async fn create_or_reset(
    db: &Db,
    username: &str,
    password: SecretString,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        password.expose_secret().chars().count() >= 8,
        "the password must have at least 8 characters"
    );
    save(db, username, password, Conflict::Reset).await?;
    Ok(())
}

/// Creates the admin only if it does not exist; true when it was created.
pub async fn create_if_absent(
    db: &Db,
    username: &str,
    password: SecretString,
) -> anyhow::Result<bool> {
    if find(db, username).await?.is_some() {
        return Ok(false);
    }
    save(db, username, password, Conflict::Keep).await
}

enum Conflict {
    Reset,
    Keep,
}

/// Inserts the admin; true when a row was written.
async fn save(
    db: &Db,
    username: &str,
    password: SecretString,
    conflict: Conflict,
) -> anyhow::Result<bool> {
    anyhow::ensure!(
        valid_username(username),
        "usernames are 1 to {USERNAME_MAX} characters without spaces"
    );
    let hash = password::hash(password).await?;
    let sql = match conflict {
        Conflict::Reset => {
            "INSERT INTO admins (username, password_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash"
        }
        Conflict::Keep => {
            "INSERT INTO admins (username, password_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO NOTHING"
        }
    };
    let done = sqlx::query(sql)
        .bind(username)
        .bind(hash)
        .bind(db::now())
        .execute(db)
        .await
        .context("cannot save the admin")?;
    Ok(done.rows_affected() == 1)
}

pub async fn count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM admins")
        .fetch_one(db)
        .await
}

/// At start: create the configured admin, or, when there is no admin at all
/// and none is configured, `admin` with a random password printed once.
pub async fn ensure_admin(
    db: &Db,
    username: Option<&str>,
    password: Option<&SecretString>,
) -> anyhow::Result<()> {
    if let Some(password) = password {
        let username = username.unwrap_or("admin");
        if create_if_absent(db, username, password.clone()).await? {
            tracing::info!(%username, "created the configured admin");
        }
        return Ok(());
    }
    if count(db).await? > 0 {
        return Ok(());
    }
    let username = username.unwrap_or("admin");
    let generated = password::generate();
    if create_if_absent(db, username, SecretString::from(generated.clone())).await? {
        // Written, not `eprintln!`: a closed stderr must not stop the start.
        let _ = writeln!(
            std::io::stderr(),
            "\n  folio: created admin \u{201c}{username}\u{201d} with password: {generated}\n  \
             (shown once; change it with `folio admin create --username {username}`)\n"
        );
    }
    Ok(())
}
