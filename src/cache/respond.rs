//! The HTTP answer for a cacheable page: the encoding `Accept-Encoding`
//! asks for (from the bytes the entry already holds), `X-Cache`, a strong
//! `ETag` per encoding with `304` for clients that hold the same bytes, and
//! the cache headers.

use super::edge::EdgeMark;
use super::entry::Entry;
use super::policy::Audience;
use crate::cache_control::CachePolicy;
use crate::encoding::{self, Encoding};
use crate::error::AppError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, EntityTag, HeaderName, HeaderValue, IfNoneMatch};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};

/// A static name: looking a header up by `&str` parses the name every time.
pub static X_CACHE: HeaderName = HeaderName::from_static("x-cache");
static XKEY: HeaderName = HeaderName::from_static("xkey");
static SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
    Bypass,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "HIT",
            CacheStatus::Miss => "MISS",
            CacheStatus::Bypass => "BYPASS",
        }
    }
}

/// Sets `X-Cache` on any response.
pub fn tag(response: &mut HttpResponse, status: CacheStatus) {
    response
        .headers_mut()
        .insert(X_CACHE.clone(), HeaderValue::from_static(status.as_str()));
}

/// The error page for a cacheable URL, marked with how it was reached.
pub fn error(e: &AppError, status: CacheStatus) -> HttpResponse {
    let mut response = e.error_response();
    tag(&mut response, status);
    response
}

/// `Vary` of a compressed page: the session decides whether it is served
/// from the cache, `Accept-Encoding` which bytes.
pub const VARY_ENCODED: &str = "Cookie, Accept-Encoding";

/// The encoding to send for `req`. A request that refuses every encoding
/// folio has (`identity;q=0`, `*;q=0`) gets identity rather than a `406`:
/// RFC 9110 lets a server ignore the header, and a page is more use than an
/// error to whatever sent it.
pub fn encoding_for(req: &HttpRequest) -> Encoding {
    let header = req.headers().get(header::ACCEPT_ENCODING);
    encoding::negotiate(header.map(HeaderValue::as_bytes)).unwrap_or(Encoding::Identity)
}

/// The response for a page: `304` when the client holds these exact bytes.
pub fn page(
    req: &HttpRequest,
    status: CacheStatus,
    entry: &Entry,
    audience: Audience,
    edge: &EdgeMark,
) -> HttpResponse {
    let encoding = if entry.is_compressed() {
        encoding_for(req)
    } else {
        Encoding::Identity
    };
    let etag = entry.etag_value(encoding);
    let not_modified = audience == Audience::Visitor && client_has(req, unquoted(etag));
    let mut builder = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::build(StatusCode::OK)
    };
    // Visitors revalidate every time (cheap with the ETag); an admin's pages
    // hold a CSRF token and are never stored by a browser or proxy.
    let policy = match (audience, edge) {
        (Audience::Admin, _) => CachePolicy::PrivateNoStore,
        (Audience::Visitor, EdgeMark::Off) => CachePolicy::Revalidate,
        (Audience::Visitor, EdgeMark::NoStore) => CachePolicy::NoStore,
        (Audience::Visitor, EdgeMark::Public { ttl, .. }) => CachePolicy::Edge { s_maxage: *ttl },
    };
    policy.build(&mut builder);
    if let EdgeMark::Public { keys, .. } = edge {
        builder
            .insert_header((XKEY.clone(), keys.as_str()))
            .insert_header((SURROGATE_KEY.clone(), keys.as_str()));
    }
    let vary = if entry.is_compressed() {
        VARY_ENCODED
    } else {
        "Cookie"
    };
    builder
        .insert_header((header::ETAG, etag.clone()))
        // Static values: a `&str` value is validated and copied per response.
        .insert_header((header::VARY, HeaderValue::from_static(vary)))
        .insert_header((X_CACHE.clone(), HeaderValue::from_static(status.as_str())));
    if not_modified {
        return builder.finish();
    }
    let body = match entry.body(encoding) {
        Ok(body) => body,
        Err(e) => {
            let e = AppError::Unexpected(anyhow::anyhow!("a stored page did not inflate: {e}"));
            tracing::error!(error = %e, "bad cache entry");
            return error(&e, status);
        }
    };
    if let Some(coding) = encoding.header() {
        builder.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static(coding)));
    }
    builder
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(entry.kind.content_type()),
        ))
        .body(body)
}

/// An `ETag` value without its quotes.
pub fn unquoted(etag: &HeaderValue) -> &str {
    etag.to_str().unwrap_or_default().trim_matches('"')
}

/// `If-None-Match` against the strong tag `etag` (unquoted), compared weakly
/// as RFC 9110 says for GET and HEAD.
pub fn client_has(req: &HttpRequest, etag: &str) -> bool {
    if !req.headers().contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    let etag = EntityTag::new_strong(etag.to_string());
    match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&etag)),
        None => false,
    }
}
