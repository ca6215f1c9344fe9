//! The database's health as requests see it: a small circuit breaker.
//!
//! Without it, every request during an outage waits out the pool's acquire
//! timeout (5 s) before its `503`. So when a request fails for want of a
//! connection (the server gone or refusing, shutting down, the pool unable to
//! open one in time), the database is marked down. While it is, `guard`
//! answers `503` at once to every request that needs the database, and a
//! background task opens a fresh connection and runs `SELECT 1` every
//! `PROBE_EVERY`; the first answer clears the mark. A busy or locked SQLite
//! file does not mark it down: reads still work, and the write that met the
//! lock gets its own `503`.
//!
//! `guard` also turns a failing session store into a `503` page: actix-session
//! answers any store error with an opaque `500` of its own.

use crate::auth::{session, session_gate};
use crate::error::AppError;
use crate::routes::errors;
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use sqlx::{AnyConnection, Connection, Executor};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// How often a database marked down is tried again.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);
/// Longest one probe may take (connecting included).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the database is marked down; cheap to clone, shared by the app.
#[derive(Clone, Default)]
pub struct DbHealth(Arc<Inner>);

#[derive(Default)]
struct Inner {
    down: AtomicBool,
    wake: Notify,
}

/// Put in a response's extensions by `AppError::error_response` when its
/// request failed for want of a connection; `guard` marks the database down.
pub struct ConnectionLost;

impl DbHealth {
    pub fn is_down(&self) -> bool {
        self.0.down.load(Ordering::SeqCst)
    }

    /// `DatabaseDown` while marked down: for work that would otherwise wait
    /// on the pool.
    pub fn check(&self) -> Result<(), AppError> {
        if self.is_down() {
            Err(AppError::DatabaseDown)
        } else {
            Ok(())
        }
    }

    /// Marks the database down and wakes the prober.
    pub fn mark_down(&self) {
        if !self.0.down.swap(true, Ordering::SeqCst) {
            tracing::warn!("database unreachable; answering 503 at once until a probe succeeds");
            metrics::counter!("folio_db_marked_down_total").increment(1);
            self.0.wake.notify_one();
        }
    }

    /// Starts the task that clears the mark once `url` answers again.
    pub fn spawn_prober(&self, url: String) -> tokio::task::JoinHandle<()> {
        let health = self.clone();
        tokio::spawn(async move {
            loop {
                if !health.is_down() {
                    // `notify_one` keeps a permit, so a mark set before this wait is seen.
                    health.0.wake.notified().await;
                    continue;
                }
                match tokio::time::timeout(PROBE_TIMEOUT, probe(&url)).await {
                    Ok(Ok(())) => {
                        health.0.down.store(false, Ordering::SeqCst);
                        tracing::info!("database reachable again");
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "database probe failed"),
                    Err(_) => tracing::debug!("database probe timed out"),
                }
                tokio::time::sleep(PROBE_EVERY).await;
            }
        })
    }
}

/// A fresh connection, not one from the pool: the pool may be full of dead
/// connections, or busy, and would make the probe wait its acquire timeout.
async fn probe(url: &str) -> Result<(), sqlx::Error> {
    let mut conn = AnyConnection::connect(url).await?;
    conn.execute("SELECT 1").await?;
    conn.close().await
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

/// What can still be answered while the database is down: static files,
/// health and metrics, and public pages for visitors without a session
/// cookie (from the cache if it can; a render fails fast in `Pages`).
/// Everything else needs the database: the session, the admin, the forms.
fn needs_database(req: &ServiceRequest) -> bool {
    let path = req.path();
    if path.starts_with("/static/") || matches!(path, "/healthz" | "/metrics" | "/robots.txt") {
        return false;
    }
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let visitor = req.cookie(session::COOKIE).is_none();
    let public = matches!(
        path,
        "/" | "/feed.xml" | "/about" | "/sitemap.xml" | "/tags"
    ) || path.starts_with("/posts/")
        || path.starts_with("/tags/");
    !(read && visitor && public)
}

/// Middleware, just outside the session middleware: answers `503` at once
/// while the database is down, marks it down when a request fails for want
/// of a connection, and turns session store failures into error pages.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let health = &state.db_health;
    if health.is_down() && needs_database(&req) {
        let page = errors::page(&state, &AppError::DatabaseDown);
        return Ok(req.into_response(page).map_into_right_body());
    }
    // Only a request that goes through the session middleware can meet a
    // failing session store.
    let (result, store_error) = if session_gate::needs_session(&req) {
        session::recording_store_errors(next.call(req)).await
    } else {
        (next.call(req).await, None)
    };
    match result {
        Ok(res) => {
            if res.response().extensions().contains::<ConnectionLost>() {
                health.mark_down();
            }
            Ok(res.map_into_left_body())
        }
        // Only the session middleware answers with an error here, and only
        // when its store failed; the request is gone, so the page travels as
        // the error's response.
        Err(e) => {
            let why = store_error.unwrap_or_else(|| {
                AppError::Unexpected(anyhow::anyhow!("session middleware failed: {e}"))
            });
            let page = errors::page(&state, &why);
            if page.extensions().contains::<ConnectionLost>() {
                health.mark_down();
            }
            Err(InternalError::from_response(e, page).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn needs(method: Method, path: &str, cookie: bool) -> bool {
        let mut req = TestRequest::default().method(method).uri(path);
        if cookie {
            req = req.cookie(actix_web::cookie::Cookie::new(session::COOKIE, "x"));
        }
        needs_database(&req.to_srv_request())
    }

    #[test]
    fn only_what_can_be_answered_without_the_database_passes_while_it_is_down() {
        for path in [
            "/static/css/site.css",
            "/healthz",
            "/metrics",
            "/robots.txt",
        ] {
            assert!(!needs(Method::GET, path, true), "{path}");
        }
        for path in ["/", "/posts/hello", "/tags", "/tags/rust", "/feed.xml"] {
            assert!(!needs(Method::GET, path, false), "{path}");
            assert!(!needs(Method::HEAD, path, false), "{path}");
            assert!(needs(Method::GET, path, true), "{path} with a session");
        }
        assert!(needs(Method::POST, "/", false));
        for path in [
            "/login",
            "/admin",
            "/preview/abc",
            "/debug/cache",
            "/nowhere",
        ] {
            assert!(needs(Method::GET, path, false), "{path}");
        }
    }

    #[test]
    fn only_connection_failures_mark_the_database_down() {
        assert!(is_connection_failure(&sqlx::Error::PoolTimedOut));
        assert!(is_connection_failure(&sqlx::Error::Io(
            std::io::ErrorKind::ConnectionRefused.into()
        )));
        assert!(!is_connection_failure(&sqlx::Error::RowNotFound));
    }
}
