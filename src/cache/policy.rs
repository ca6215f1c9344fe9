//! The caching rules as data, decided here and nowhere else:
//! - which pages are cacheable is `keys::Page`; how long each lives is `Ttls`;
//! - only anonymous `GET`/`HEAD` requests read or fill the cache (`Audience`);
//! - only `200` renders are stored, and renders never hold anything personal;
//! - every response that did not say otherwise is `private, no-store`
//!   (`no_store_by_default`), so a new route cannot leak into a shared cache.

use super::keys::{Page, Route};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use std::time::Duration;

/// Cache lifetimes in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Ttls {
    /// List pages, `/tags` and the feeds.
    pub index: u64,
    /// Post pages.
    pub post: u64,
    /// `/about` and the sitemap.
    pub page: u64,
}

impl Ttls {
    pub fn secs(&self, page: &Page) -> u64 {
        match page.route() {
            Route::Post => self.post,
            Route::About | Route::Sitemap => self.page,
            Route::Index | Route::Feed | Route::Tags | Route::Tag | Route::TagFeed => self.index,
        }
        .max(1)
    }

    pub fn of(&self, page: &Page) -> Duration {
        Duration::from_secs(self.secs(page))
    }
}

/// Who asks for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anonymous: may be served from the cache and fill it.
    Visitor,
    /// Logged in: always a fresh render (`BYPASS`), never stored, never
    /// stored by a browser or proxy either.
    Admin,
}

pub const NO_STORE: &str = "private, no-store";

/// Marks every response that set no `Cache-Control` of its own as
/// `private, no-store`.
pub async fn no_store_by_default(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    }
    Ok(res)
}
