//! The caching rules as data, decided here and nowhere else:
//! - which pages are cacheable is `keys::Page`; how long each lives is `Ttls`;
//! - only anonymous `GET`/`HEAD` requests read or fill the cache (`Audience`);
//! - only `200` renders are stored, and renders never hold anything personal;
//! - what a response may be stored as is its `CachePolicy`
//!   (`crate::cache_control`), written into `Cache-Control` by one
//!   middleware; a response that names none is `private, no-store`, so a new
//!   route cannot leak into a shared cache.

use super::keys::{Page, Route};
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
