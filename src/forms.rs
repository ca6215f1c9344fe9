//! `Form<T>` and `CsrfForm<T>`: the extractors for every form folio accepts
//! (`CsrfForm` for every POST that changes something). Unlike actix's
//! `web::Form`, which decodes lossily (a title of raw `\xff` bytes or
//! `%C3%28` becomes "��"), it refuses a body that is not UTF-8, raw or once
//! percent-decoded, with `400`, so bad bytes change nothing. A POST that
//! carries no form at all has no CSRF token either: `403`, like a wrong one.

use crate::auth::csrf;
use crate::error::AppError;
use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Largest request body accepted: a 256 KiB post, URL-encoded, with room to spare.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A form, strictly UTF-8 (see the module comment).
pub struct Form<T>(pub T);

impl<T> Form<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Form<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = checked_body(req, payload);
        Box::pin(async move { parse(&body.await?).map(Form) })
    }
}

/// A form from this site: its `csrf_token` field is the session's token
/// (`csrf::verify`), checked before the handler runs, so a handler that
/// takes a `CsrfForm` cannot forget it. Read as strictly as `Form`: `413`
/// over the limit, `400` for a body that is not UTF-8 or not a form, then
/// `403` for a missing or wrong token. `T` need not name the token.
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for CsrfForm<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The fields of a form that carries nothing but its token (logout,
/// delete, flush): `CsrfForm<TokenOnly>`.
#[derive(Deserialize)]
pub struct TokenOnly {}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Token {
    csrf_token: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let body = checked_body(req, payload);
        Box::pin(async move {
            let body = body.await?;
            let form = parse(&body)?;
            let token: Token = parse(&body)?;
            csrf::verify(&session, &token.csrf_token)?;
            Ok(CsrfForm(form))
        })
    }
}

/// The body of a form: `413` over `BODY_LIMIT`, `403` for a POST with no
/// form at all (it has no token either), `400` for another content type or
/// bytes that are not UTF-8.
fn checked_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<web::Bytes, AppError>> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        if declared.is_some_and(|n| n > BODY_LIMIT) {
            return Err(AppError::PayloadTooLarge);
        }
        let body = body
            .await
            .map_err(|e| match e.as_response_error().status_code() {
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
                _ => AppError::BadRequest("The form could not be read.".to_string()),
            })?;
        if body.is_empty() && !is_form {
            return Err(AppError::Csrf);
        }
        if !is_form {
            return Err(AppError::BadRequest(
                "Forms must be sent as application/x-www-form-urlencoded.".to_string(),
            ));
        }
        check_utf8(&body)?;
        Ok(body)
    })
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}.")))
}

/// Every name and value, raw and percent-decoded, must be UTF-8.
fn check_utf8(body: &[u8]) -> Result<(), AppError> {
    let bad = || AppError::BadRequest("The form is not valid UTF-8.".to_string());
    std::str::from_utf8(body).map_err(|_| bad())?;
    for part in body.split(|b| *b == b'&' || *b == b'=') {
        let spaced: Vec<u8> = part
            .iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect();
        let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
        std::str::from_utf8(&decoded).map_err(|_| bad())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_forms_pass_and_bad_bytes_do_not() {
        assert!(check_utf8(b"title=Caf%C3%A9+au+lait&body=%E2%9C%93").is_ok());
        assert!(check_utf8("title=Café".as_bytes()).is_ok());
        assert!(check_utf8(b"title=Bad%C3%28utf8").is_err());
        assert!(check_utf8(b"title=Bad\xff\xfe").is_err());
        assert!(check_utf8(b"ti%FFtle=x").is_err());
    }
}
