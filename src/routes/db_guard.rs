//! The database guard, just outside the session middleware: while the
//! database is marked down (`db_health`), answers `503` at once to every
//! request that needs it (`RequestClass::needs_database`); marks it down
//! when a request failed for want of a connection (`ConnectionLost`); and
//! turns a failing session store into an error page, since actix-session
//! answers any store error with an opaque `500` of its own.

use super::errors;
use crate::auth::{session, session_gate};
use crate::error::{AppError, ConnectionLost};
use crate::request_class::RequestClass;
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::middleware::Next;
use actix_web::web;

/// The middleware (see the module comment).
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
    if health.is_down() && RequestClass::with(req.request(), RequestClass::needs_database) {
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
