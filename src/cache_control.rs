//! `Cache-Control` as data. A handler (or the cache, or an error) says what
//! its response may be stored as by putting a `CachePolicy` in the
//! response's extensions; one middleware, `WriteCacheControl`, turns it into
//! the header, and gives every response that said nothing `private,
//! no-store`, so a new route cannot leak into a shared cache. No other code
//! writes the header: a debug build panics if a handler did.

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{Error, HttpResponse, HttpResponseBuilder, ResponseError};
use futures_util::FutureExt;
use futures_util::future::Map;
use std::fmt;
use std::future::{Ready, ready};

/// What a response may be stored as, and by whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// `private, no-store`: the default; the admin's pages (they hold a CSRF
    /// token), previews, the panel.
    PrivateNoStore,
    /// `no-store`: error answers, the login form, health and metrics, and a
    /// page the edge must not keep (not known current).
    NoStore,
    /// `no-cache`: a visitor's page with no edge in front: browsers keep it
    /// and revalidate every time with its `ETag`.
    Revalidate,
    /// `public, max-age=0, s-maxage=N`: a page known current, for the edge
    /// (purged on every write that makes it stale); browsers revalidate.
    Edge { s_maxage: u64 },
    /// `public, max-age=86400`: `robots.txt`.
    PublicDay,
    /// `public, max-age=31536000, immutable`: assets, linked by version.
    Immutable,
    /// The same with `s-maxage` for an edge in front: uploads, named by
    /// their content.
    ImmutableShared,
}

impl CachePolicy {
    /// The header's value.
    pub fn header_value(self) -> HeaderValue {
        match self {
            CachePolicy::PrivateNoStore => HeaderValue::from_static("private, no-store"),
            CachePolicy::NoStore => HeaderValue::from_static("no-store"),
            CachePolicy::Revalidate => HeaderValue::from_static("no-cache"),
            CachePolicy::Edge { s_maxage } => {
                let mut number = itoa::Buffer::new();
                let value = format!("public, max-age=0, s-maxage={}", number.format(s_maxage));
                HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("no-store"))
            }
            CachePolicy::PublicDay => HeaderValue::from_static("public, max-age=86400"),
            CachePolicy::Immutable => {
                HeaderValue::from_static("public, max-age=31536000, immutable")
            }
            CachePolicy::ImmutableShared => {
                HeaderValue::from_static("public, max-age=31536000, s-maxage=31536000, immutable")
            }
        }
    }

    /// Puts this policy on a response (replacing one set before).
    pub fn apply<B>(self, response: &mut HttpResponse<B>) {
        response.extensions_mut().insert(self);
    }

    /// Puts this policy on a response being built.
    pub fn build(self, builder: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
        builder.extensions_mut().insert(self);
        builder
    }
}

/// Writes `Cache-Control` from the response's `CachePolicy` (see the module
/// comment). Wraps everything that makes responses, the hit path included.
pub struct WriteCacheControl;

impl<S, B> Transform<S, ServiceRequest> for WriteCacheControl
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = WriteCacheControlService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(WriteCacheControlService { service }))
    }
}

/// The service `WriteCacheControl` wraps.
pub struct WriteCacheControlService<S> {
    service: S,
}

type Answer<B> = Result<ServiceResponse<B>, Error>;

impl<S, B> Service<ServiceRequest> for WriteCacheControlService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Map<S::Future, fn(Answer<B>) -> Answer<B>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        self.service.call(req).map(written)
    }
}

fn written<B>(answer: Answer<B>) -> Answer<B> {
    match answer {
        Ok(mut res) => {
            write(res.response_mut());
            Ok(res)
        }
        // An error answered past this layer (a failing session store)
        // becomes its response later, in the server: it is written then.
        Err(e) => Err(WrittenLater(e).into()),
    }
}

/// An error whose response gets its `Cache-Control` when it is made.
struct WrittenLater(Error);

impl fmt::Debug for WrittenLater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for WrittenLater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl ResponseError for WrittenLater {
    fn status_code(&self) -> StatusCode {
        self.0.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut response = self.0.error_response();
        write(&mut response);
        response
    }
}

fn write<B>(response: &mut HttpResponse<B>) {
    debug_assert!(
        !response.headers().contains_key(header::CACHE_CONTROL),
        "a handler wrote Cache-Control itself; put a CachePolicy in the response's extensions"
    );
    let policy = response
        .extensions()
        .get::<CachePolicy>()
        .copied()
        .unwrap_or(CachePolicy::PrivateNoStore);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, policy.header_value());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_has_its_one_spelling() {
        let value = |p: CachePolicy| p.header_value().to_str().unwrap_or("").to_string();
        assert_eq!(value(CachePolicy::PrivateNoStore), "private, no-store");
        assert_eq!(value(CachePolicy::NoStore), "no-store");
        assert_eq!(value(CachePolicy::Revalidate), "no-cache");
        assert_eq!(
            value(CachePolicy::Edge { s_maxage: 1800 }),
            "public, max-age=0, s-maxage=1800"
        );
        assert_eq!(value(CachePolicy::PublicDay), "public, max-age=86400");
        assert_eq!(
            value(CachePolicy::Immutable),
            "public, max-age=31536000, immutable"
        );
    }

    #[test]
    fn a_response_without_a_policy_is_private_and_unstored() {
        let mut plain = HttpResponse::Ok().finish();
        write(&mut plain);
        let value = |r: &HttpResponse| r.headers().get(header::CACHE_CONTROL).cloned();
        assert_eq!(value(&plain).unwrap(), "private, no-store");
        let mut asset = HttpResponse::Ok().finish();
        CachePolicy::Immutable.apply(&mut asset);
        write(&mut asset);
        assert_eq!(
            value(&asset).unwrap(),
            "public, max-age=31536000, immutable"
        );
    }
}
