//! Server-side sessions in the database (not Redis: the admin must be able to
//! log in and fix a post while Redis is down). The cookie holds only a random
//! id, encrypted and signed; deleting the row ends the session everywhere.

use crate::db::{self, Db};
use crate::error::AppError;
use crate::request_class::RequestClass;
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_session::{Session, SessionExt};
use actix_web::cookie::time::Duration;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::{Ready, ready};

type State = HashMap<String, String>;

tokio::task_local! {
    /// Why the store failed during this request. actix-session answers any
    /// store error with an opaque `500` of its own; `routes::db_guard` reads
    /// this to answer `503` when the database is what failed.
    static STORE_ERROR: RefCell<Option<AppError>>;
}

/// Runs `fut` (the session middleware and what it wraps) and returns, with
/// its output, why the store failed if it did.
pub async fn recording_store_errors<F: Future>(fut: F) -> (F::Output, Option<AppError>) {
    STORE_ERROR
        .scope(RefCell::new(None), async {
            let output = fut.await;
            (output, STORE_ERROR.with(|e| e.borrow_mut().take()))
        })
        .await
}

/// Records a query error for `recording_store_errors`, returning what
/// actix-session gets (it only logs it).
fn store_failed(e: sqlx::Error) -> anyhow::Error {
    let error = AppError::from(e);
    let message = anyhow::anyhow!("the session store failed: {error:?}");
    let _ = STORE_ERROR.try_with(|slot| *slot.borrow_mut() = Some(error));
    message
}

#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        DbSessionStore { db }
    }
}

/// 256 random bits.
fn new_session_id() -> String {
    crate::token::random_hex(32)
}

fn expiry(ttl: &Duration) -> i64 {
    db::now() + ttl.whole_seconds()
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(key.as_ref())
                .bind(db::now())
                .fetch_optional(&self.db)
                .await
                .map_err(|e| LoadError::Other(store_failed(e)))?;
        state
            .map(|s| serde_json::from_str(&s).map_err(|e| LoadError::Deserialization(e.into())))
            .transpose()
    }

    async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let id = new_session_id();
        sqlx::query("INSERT INTO sessions (id, state, expires_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(body)
            .bind(expiry(ttl))
            .execute(&self.db)
            .await
            .map_err(|e| SaveError::Other(store_failed(e)))?;
        SessionKey::try_from(id).map_err(|e| SaveError::Other(e.into()))
    }

    async fn update(
        &self,
        key: SessionKey,
        state: State,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let updated = sqlx::query(
            "UPDATE sessions SET state = $1, expires_at = $2 WHERE id = $3 AND expires_at > $4",
        )
        .bind(&body)
        .bind(expiry(ttl))
        .bind(key.as_ref())
        .bind(db::now())
        .execute(&self.db)
        .await
        .map_err(|e| UpdateError::Other(store_failed(e)))?;
        if updated.rows_affected() == 1 {
            return Ok(key);
        }
        // Gone (logged out elsewhere or expired): start a new session, never revive the old id.
        self.save(state, ttl).await.map_err(|e| match e {
            SaveError::Serialization(e) => UpdateError::Serialization(e),
            SaveError::Other(e) => UpdateError::Other(e),
        })
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        sqlx::query("UPDATE sessions SET expires_at = $1 WHERE id = $2")
            .bind(expiry(ttl))
            .bind(key.as_ref())
            .execute(&self.db)
            .await
            .map_err(store_failed)?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key.as_ref())
            .execute(&self.db)
            .await
            .map_err(store_failed)?;
        Ok(())
    }
}

/// Removes expired sessions; run now and then.
pub async fn purge_expired(db: &Db) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(db::now())
        .execute(db)
        .await?
        .rows_affected())
}

const ADMIN_ID: &str = "admin_id";
const USERNAME: &str = "username";

/// The logged-in admin, if any.
#[derive(Debug, Clone)]
pub struct Identity {
    pub admin_id: i64,
    pub username: String,
}

pub fn identity(session: &Session) -> Option<Identity> {
    let admin_id = session.get::<i64>(ADMIN_ID).ok().flatten()?;
    let username = session.get::<String>(USERNAME).ok().flatten()?;
    Some(Identity { admin_id, username })
}

pub fn log_in(session: &Session, admin_id: i64, username: &str) -> Result<(), AppError> {
    // A new id at login: a session id planted before login is worthless after.
    session.renew();
    session
        .insert(ADMIN_ID, admin_id)
        .and_then(|_| session.insert(USERNAME, username))
        .map_err(|e| anyhow::anyhow!("cannot store the session: {e}"))?;
    Ok(())
}

/// The visitor's view of the site: anonymous, or the admin with its session.
pub struct Viewer {
    req: HttpRequest,
    pub identity: Option<Identity>,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.identity.is_some()
    }

    /// The request's session, made on first use: a visitor reading pages
    /// never needs one (see `session_gate`).
    pub fn session(&self) -> Session {
        self.req.get_session()
    }
}

impl FromRequest for Viewer {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Without the cookie there is no session to look in.
        let identity = RequestClass::with(req, |class| class.session_cookie)
            .then(|| identity(&req.get_session()))
            .flatten();
        ready(Ok(Viewer {
            req: req.clone(),
            identity,
        }))
    }
}

/// A request from the logged-in admin; anyone else is sent to the login page.
pub struct Admin {
    pub session: Session,
    pub identity: Identity,
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        ready(match identity(&session) {
            Some(identity) => Ok(Admin { session, identity }),
            None => {
                // Come back to the page after login; a POST's target is not a page, so go to its list.
                let next = if req.method() == actix_web::http::Method::GET {
                    req.uri()
                        .path_and_query()
                        .map_or("/admin", |pq| pq.as_str())
                        .to_string()
                } else if req.path().starts_with("/debug") {
                    "/debug/cache".to_string()
                } else {
                    "/admin".to_string()
                };
                Err(AppError::LoginRequired { next })
            }
        })
    }
}
