//! CSRF tokens: one random token per session, checked on every POST.

use crate::error::AppError;
use actix_session::Session;
use subtle::ConstantTimeEq;

const KEY: &str = "csrf";

/// The session's token, created on first use.
pub fn token(session: &Session) -> Result<String, AppError> {
    if let Ok(Some(token)) = session.get::<String>(KEY) {
        return Ok(token);
    }
    let token = new_token();
    session
        .insert(KEY, &token)
        .map_err(|e| anyhow::anyhow!("cannot store the CSRF token: {e}"))?;
    Ok(token)
}

/// Replaces the token (after login, so a token seen before it is useless).
pub fn rotate(session: &Session) -> Result<String, AppError> {
    let token = new_token();
    session
        .insert(KEY, &token)
        .map_err(|e| anyhow::anyhow!("cannot store the CSRF token: {e}"))?;
    Ok(token)
}

/// `403` unless `submitted` is this session's token.
pub fn verify(session: &Session, submitted: &str) -> Result<(), AppError> {
    match session.get::<String>(KEY) {
        Ok(Some(expected))
            if !submitted.is_empty()
                && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) =>
        {
            Ok(())
        }
        _ => Err(AppError::Csrf),
    }
}

fn new_token() -> String {
    crate::token::random_hex(32)
}
