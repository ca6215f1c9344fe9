//! One error type for request handlers.
//!
//! Handlers return `Result<_, AppError>`. Expected outcomes a visitor can cause
//! (not found, login required, bad token, throttled) are variants with their own
//! status; a database that cannot serve now (unreachable, or a SQLite file
//! locked past the busy timeout) is `503`; anything else is `Unexpected`,
//! logged with its cause and shown as a generic 500. Infrastructure code uses
//! `anyhow` with context and converts at the handler boundary. Form validation
//! is not an error: handlers re-render the form with `422` themselves.
//!
//! What an error page tells the visitor is a `UserMessage`, made here and
//! nowhere else: `AppError::user_message` for folio's own errors, and
//! `UserMessage::for_status` for answers actix makes itself.

use crate::cache_control::CachePolicy;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use std::borrow::Cow;

#[derive(thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    /// Not logged in: redirect to the login page, then back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    Csrf,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    BadRequest(String),
    #[error("too many failed attempts; wait a few minutes and try again")]
    TooManyAttempts,
    /// Over the per-client search limit; answered with `Retry-After`.
    #[error("too many searches at once; wait a moment and try again")]
    TooManySearches { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] sqlx::Error),
    /// The database is marked down (`db_health`): answered at once, without
    /// trying it; the failure that marked it was logged then.
    #[error("the database is unavailable")]
    DatabaseDown,
    #[error("something went wrong")]
    Unexpected(#[from] anyhow::Error),
}

/// Put in a response's extensions by `AppError::error_response` when its
/// request failed for want of a connection; `routes::db_guard` marks the
/// database down.
pub struct ConnectionLost;

/// The heading and sentence of an error page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMessage {
    pub heading: &'static str,
    pub message: Cow<'static, str>,
}

impl UserMessage {
    /// The page for an error status with nothing more known (an answer actix
    /// made itself, such as an unknown method), and the base of every
    /// `AppError`'s.
    pub fn for_status(status: StatusCode) -> Self {
        let (heading, message) = match status {
            StatusCode::NOT_FOUND => (
                "Page not found",
                "There is nothing at this address: the page may have moved, or the link may have a typo in it.",
            ),
            StatusCode::FORBIDDEN => ("Forbidden", COULD_NOT_COMPLETE),
            StatusCode::PAYLOAD_TOO_LARGE => ("Too large", COULD_NOT_COMPLETE),
            StatusCode::TOO_MANY_REQUESTS => ("Too many attempts", COULD_NOT_COMPLETE),
            StatusCode::METHOD_NOT_ALLOWED => (
                "Method not allowed",
                "This address does not accept that kind of request.",
            ),
            StatusCode::BAD_REQUEST => ("Bad request", "The request could not be understood."),
            StatusCode::SERVICE_UNAVAILABLE => (
                "Unavailable",
                "The blog cannot reach its database right now. Try again shortly.",
            ),
            s if s.is_server_error() => (
                "Something went wrong",
                "The error has been logged. Try again shortly.",
            ),
            _ => ("Error", COULD_NOT_COMPLETE),
        };
        UserMessage {
            heading,
            message: Cow::Borrowed(message),
        }
    }
}

const COULD_NOT_COMPLETE: &str = "The request could not be completed.";

impl AppError {
    /// What the error page says: client errors a visitor can fix explain
    /// themselves with their own text; server errors never show their cause.
    pub fn user_message(&self) -> UserMessage {
        let base = UserMessage::for_status(self.status_code());
        match self {
            AppError::Csrf
            | AppError::PayloadTooLarge
            | AppError::BadRequest(_)
            | AppError::TooManyAttempts
            | AppError::TooManySearches { .. } => UserMessage {
                message: Cow::Owned(self.to_string()),
                ..base
            },
            AppError::NotFound
            | AppError::LoginRequired { .. }
            | AppError::DatabaseUnavailable(_)
            | AppError::DatabaseDown
            | AppError::Unexpected(_) => base,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => AppError::NotFound,
            e if database_unavailable(&e) => AppError::DatabaseUnavailable(e),
            other => AppError::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// Errors that say the database cannot serve now, rather than that the
/// query is wrong: `503`, not `500`. Connection-level ones also mark the
/// database down (`db_health`); a busy or locked SQLite file does not, since
/// it still serves reads and other writes once the lock is released.
fn database_unavailable(e: &sqlx::Error) -> bool {
    if crate::db::is_connection_failure(e) {
        return true;
    }
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), with extended codes.
            let sqlite_busy =
                matches!(code.parse::<i64>(), Ok(c) if c & 0xff == 5 || c & 0xff == 6);
            sqlite_busy || db.message().contains("database is locked")
        }
        _ => false,
    }
}

impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Print the whole cause chain: the Display text alone hides it.
        writeln!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            writeln!(f, "Caused by:\n\t{cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyAttempts | AppError::TooManySearches { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::DatabaseUnavailable(_) | AppError::DatabaseDown => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::LoginRequired { next } = self {
            let location = format!("/login?next={}", crate::http::encode_query_value(next));
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish();
        }
        // A fast `DatabaseDown` was logged once, when the database was marked down.
        if self.status_code().is_server_error() && !matches!(self, AppError::DatabaseDown) {
            tracing::error!(error = ?self, "request failed");
        }
        // `routes::errors` renders the page from the message in the
        // extensions; the plain text is for whoever sees the answer bare.
        let mut response = HttpResponse::build(self.status_code())
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(self.to_string());
        CachePolicy::NoStore.apply(&mut response);
        response.extensions_mut().insert(self.user_message());
        if let AppError::TooManySearches { retry_after_secs } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs),
            );
        }
        if let AppError::DatabaseUnavailable(e) = self
            && crate::db::is_connection_failure(e)
        {
            // Seen by `routes::db_guard`, which marks the database down.
            response.extensions_mut().insert(ConnectionLost);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_explain_themselves_and_server_errors_hide_their_cause() {
        let csrf = AppError::Csrf.user_message();
        assert_eq!(csrf.heading, "Forbidden");
        assert_eq!(csrf.message, AppError::Csrf.to_string());
        let bad = AppError::BadRequest("The form is not valid UTF-8.".to_string());
        assert_eq!(bad.user_message().message, "The form is not valid UTF-8.");
        let unexpected = AppError::Unexpected(anyhow::anyhow!("secret detail"));
        let shown = unexpected.user_message();
        assert_eq!(shown.heading, "Something went wrong");
        assert!(!shown.message.contains("secret"));
        assert_eq!(
            AppError::NotFound.user_message(),
            UserMessage::for_status(StatusCode::NOT_FOUND)
        );
    }
}
