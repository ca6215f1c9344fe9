//! The database's health as requests see it.
//!
//! `guard` turns a failing session store into a `503` page when the database
//! is what failed: actix-session answers any store error with an opaque `500`
//! of its own, which the request log never saw.

use crate::auth::session;
use crate::error::AppError;
use crate::routes::errors;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::middleware::Next;
use actix_web::web;

/// Middleware, just outside the session middleware: turns session store
/// failures into error pages.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (result, store_error) = session::recording_store_errors(next.call(req)).await;
    match (result, state) {
        // Only the session middleware answers with an error here, and only
        // when its store failed; the request is gone, so the page travels as
        // the error's response.
        (Err(e), Some(state)) => {
            let why = store_error.unwrap_or_else(|| {
                AppError::Unexpected(anyhow::anyhow!("session middleware failed: {e}"))
            });
            Err(InternalError::from_response(e, errors::page(&state, &why)).into())
        }
        (result, _) => result,
    }
}
