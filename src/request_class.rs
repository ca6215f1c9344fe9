//! What a request is, decided once. The outermost layer (`Classify`) reads
//! the method, path, query and `Cookie` header and puts a `RequestClass` in
//! the request's extensions; every later layer reads it instead of parsing
//! the path again: the hit path and the blog's handler (the page), the
//! database guard (can it be answered without the database), the session
//! gate and the `Viewer` extractor (may it have a session), and the metrics
//! (the route label). A new route is one edit here.
//!
//! The hit path runs this for every request, so it allocates only what
//! `Page::parse` allocates (a post's slug) and the extension's box.

use crate::cache::keys::{Page, Route};
use actix_web::dev::{Service, ServiceRequest, Transform, forward_ready};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpMessage, HttpRequest};
use std::future::{Ready, ready};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "folio_session";

/// What a request's path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A public page's route, with the page when the URL names one that can
    /// exist (`None` is a `404` that never touches the cache).
    Public(Route, Option<Page>),
    /// `/robots.txt`.
    Robots,
    /// `/static/…`.
    Asset,
    /// `/healthz` or `/metrics` (the route label).
    Probe(&'static str),
    /// `/search` (never cached: see `search`).
    Search,
    /// `/media/{name}`: an upload, immutable.
    Media,
    /// `/preview/{token}`.
    Preview,
    Login,
    Logout,
    /// `/admin…` (the route label, `other` for an unknown one).
    Admin(&'static str),
    /// `/debug/…` (the route label, `other` for an unknown one).
    Debug(&'static str),
    /// No route of folio's.
    Unknown,
}

/// A request's class: its target, and the two facts every layer asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestClass {
    pub target: Target,
    /// `GET` or `HEAD`.
    pub read: bool,
    /// The `Cookie` header names the session cookie.
    pub session_cookie: bool,
}

impl RequestClass {
    /// Classifies a request from its parts.
    pub fn new(method: &Method, path: &str, query: &str, headers: &HeaderMap) -> Self {
        RequestClass {
            target: target(path, query),
            read: matches!(*method, Method::GET | Method::HEAD),
            session_cookie: carries_session_cookie(headers),
        }
    }

    /// Runs `f` on the class `Classify` stored, or on the request
    /// classified now (one built without the middleware, as in unit tests).
    /// `f` must not borrow the request's extensions mutably.
    pub fn with<R>(req: &HttpRequest, f: impl FnOnce(&RequestClass) -> R) -> R {
        if let Some(class) = req.extensions().get::<RequestClass>() {
            return f(class);
        }
        f(&RequestClass::new(
            req.method(),
            req.path(),
            req.query_string(),
            req.headers(),
        ))
    }

    /// A cookieless `GET` or `HEAD`: a visitor reading, with no session to load.
    pub fn is_visitor_read(&self) -> bool {
        self.read && !self.session_cookie
    }

    /// The page a cookieless visitor reads: what the hit path may answer.
    pub fn visitor_page(&self) -> Option<&Page> {
        match &self.target {
            Target::Public(_, page) if self.is_visitor_read() => page.as_ref(),
            _ => None,
        }
    }

    /// Everything but a cookieless read of a public page, an asset or a
    /// probe goes through the session middleware; none of those handlers
    /// reads or writes a session, and loading an empty one costs about a
    /// sixth of a cache hit.
    pub fn needs_session(&self) -> bool {
        let sessionless = matches!(
            self.target,
            Target::Public(..) | Target::Robots | Target::Asset | Target::Media | Target::Probe(_)
        );
        !(sessionless && self.is_visitor_read())
    }

    /// What can still be answered while the database is down: assets,
    /// probes, `robots.txt`, and public pages for visitors without a session
    /// cookie (from the cache if it can; a render fails fast in `Pages`).
    pub fn needs_database(&self) -> bool {
        match self.target {
            Target::Asset | Target::Probe(_) | Target::Robots => false,
            Target::Public(..) => !self.is_visitor_read(),
            _ => true,
        }
    }

    /// The route, for metric labels and the request log line (a bounded set).
    pub fn route_label(&self) -> &'static str {
        match self.target {
            Target::Public(route, _) => match route {
                Route::Index => "/",
                Route::Post => "/posts/{slug}",
                Route::Feed => "/feed.xml",
                Route::Tags => "/tags",
                Route::Tag => "/tags/{tag}",
                Route::TagFeed => "/tags/{tag}/feed.xml",
                Route::About => "/about",
                Route::Sitemap => "/sitemap.xml",
            },
            Target::Robots => "/robots.txt",
            Target::Asset => "/static/{path}",
            Target::Probe(label) | Target::Admin(label) | Target::Debug(label) => label,
            Target::Search => "/search",
            Target::Media => "/media/{name}",
            Target::Preview => "/preview/{token}",
            Target::Login => "/login",
            Target::Logout => "/logout",
            Target::Unknown => "other",
        }
    }
}

/// Whether a `Cookie` header names the session cookie (without parsing every
/// cookie; a false positive only means the session is looked at).
pub fn carries_session_cookie(headers: &HeaderMap) -> bool {
    headers.get_all(header::COOKIE).any(|value| {
        value
            .as_bytes()
            .windows(SESSION_COOKIE.len() + 1)
            .any(|w| w.starts_with(SESSION_COOKIE.as_bytes()) && w[SESSION_COOKIE.len()] == b'=')
    })
}

/// Matched on static prefixes, not the router's regexes; the pages
/// themselves are `Page::parse`'s.
fn target(path: &str, query: &str) -> Target {
    if let Some(page) = Page::parse(path, query) {
        return Target::Public(page.route(), Some(page));
    }
    match path {
        "/" => Target::Public(Route::Index, None),
        "/robots.txt" => Target::Robots,
        "/search" => Target::Search,
        "/healthz" => Target::Probe("/healthz"),
        "/metrics" => Target::Probe("/metrics"),
        "/login" => Target::Login,
        "/logout" => Target::Logout,
        "/admin" => Target::Admin("/admin"),
        p if p.starts_with("/posts/") => Target::Public(Route::Post, None),
        p if p.starts_with("/tags/") && p.ends_with("/feed.xml") => {
            Target::Public(Route::TagFeed, None)
        }
        p if p.starts_with("/tags/") => Target::Public(Route::Tag, None),
        p if p.starts_with("/static/") => Target::Asset,
        p if p.starts_with("/media/") => Target::Media,
        p if p.starts_with("/preview/") => Target::Preview,
        p if p.starts_with("/admin/") => Target::Admin(admin_label(p)),
        p if p.starts_with("/debug/") => Target::Debug(debug_label(p)),
        _ => Target::Unknown,
    }
}

fn admin_label(path: &str) -> &'static str {
    match path {
        "/admin/settings" => "/admin/settings",
        "/admin/posts" => "/admin/posts",
        "/admin/posts/new" => "/admin/posts/new",
        "/admin/media" => "/admin/media",
        p if p.starts_with("/admin/media/") => {
            if p.ends_with("/delete") {
                "/admin/media/{id}/delete"
            } else {
                "/admin/media/{id}"
            }
        }
        p if p.starts_with("/admin/posts/") => {
            if p.ends_with("/preview") {
                "/admin/posts/{id}/preview"
            } else if p.ends_with("/edit") {
                "/admin/posts/{id}/edit"
            } else if p.ends_with("/delete") {
                "/admin/posts/{id}/delete"
            } else {
                "/admin/posts/{id}"
            }
        }
        _ => "other",
    }
}

fn debug_label(path: &str) -> &'static str {
    match path {
        "/debug/cache" => "/debug/cache",
        "/debug/cache.json" => "/debug/cache.json",
        "/debug/cache/flush" => "/debug/cache/flush",
        _ => "other",
    }
}

/// The outermost middleware: classifies each request into its extensions.
pub struct Classify;

impl<S, B> Transform<S, ServiceRequest> for Classify
where
    S: Service<ServiceRequest, Response = actix_web::dev::ServiceResponse<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Transform = ClassifyService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ClassifyService { service }))
    }
}

/// The service `Classify` wraps: no future of its own, so it costs only
/// the classification.
pub struct ClassifyService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for ClassifyService<S>
where
    S: Service<ServiceRequest, Response = actix_web::dev::ServiceResponse<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let class = RequestClass::new(req.method(), req.path(), req.query_string(), req.headers());
        req.extensions_mut().insert(class);
        self.service.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn class(method: Method, uri: &str, cookie: Option<&str>) -> RequestClass {
        let mut req = TestRequest::default().method(method).uri(uri);
        if let Some(cookie) = cookie {
            req = req.insert_header((header::COOKIE, cookie));
        }
        RequestClass::with(&req.to_http_request(), RequestClass::clone)
    }

    #[test]
    fn only_cookieless_reads_of_public_pages_and_files_skip_the_session() {
        for path in [
            "/",
            "/posts/hello",
            "/tags/rust?page=2",
            "/static/css/site.css",
            "/healthz",
        ] {
            assert!(!class(Method::GET, path, None).needs_session(), "{path}");
            let dark = class(Method::HEAD, path, Some("theme=dark"));
            assert!(!dark.needs_session(), "{path}");
            let admin = class(Method::GET, path, Some("a=1; folio_session=xyz"));
            assert!(admin.needs_session(), "{path}");
        }
        for path in [
            "/login",
            "/admin",
            "/admin/posts/1/edit",
            "/debug/cache",
            "/preview/abc",
        ] {
            assert!(class(Method::GET, path, None).needs_session(), "{path}");
        }
        assert!(class(Method::POST, "/", None).needs_session());
        assert!(class(Method::POST, "/logout", None).needs_session());
    }

    #[test]
    fn only_what_can_be_answered_without_the_database_passes_while_it_is_down() {
        let cookie = Some("folio_session=x");
        for path in [
            "/static/css/site.css",
            "/healthz",
            "/metrics",
            "/robots.txt",
        ] {
            assert!(!class(Method::GET, path, cookie).needs_database(), "{path}");
        }
        for path in ["/", "/posts/hello", "/tags", "/tags/rust", "/feed.xml"] {
            assert!(!class(Method::GET, path, None).needs_database(), "{path}");
            assert!(!class(Method::HEAD, path, None).needs_database(), "{path}");
            let admin = class(Method::GET, path, cookie);
            assert!(admin.needs_database(), "{path} with a session");
        }
        assert!(class(Method::POST, "/", None).needs_database());
        for path in [
            "/login",
            "/admin",
            "/preview/abc",
            "/debug/cache",
            "/nowhere",
        ] {
            assert!(class(Method::GET, path, None).needs_database(), "{path}");
        }
    }

    #[test]
    fn the_hit_path_sees_the_page_only_for_a_cookieless_read() {
        let post = Some(Page::Post("hello".to_string()));
        assert_eq!(
            class(Method::GET, "/posts/hello", None).visitor_page(),
            post.as_ref()
        );
        assert_eq!(
            class(Method::GET, "/posts/Bad_Slug", None).visitor_page(),
            None
        );
        assert_eq!(
            class(Method::POST, "/posts/hello", None).visitor_page(),
            None
        );
        let cookie = Some("folio_session=x");
        assert_eq!(
            class(Method::GET, "/posts/hello", cookie).visitor_page(),
            None
        );
    }

    #[test]
    fn labels_are_bounded() {
        let label = |uri| class(Method::GET, uri, None).route_label();
        assert_eq!(label("/posts/hello"), "/posts/{slug}");
        assert_eq!(label("/posts/NOT_A_SLUG"), "/posts/{slug}");
        assert_eq!(label("/?page=x"), "/");
        assert_eq!(label("/tags/rust/feed.xml"), "/tags/{tag}/feed.xml");
        assert_eq!(label("/tags/rust?page=2"), "/tags/{tag}");
        assert_eq!(label("/admin/posts/7/edit"), "/admin/posts/{id}/edit");
        assert_eq!(label("/admin/posts/7/preview"), "/admin/posts/{id}/preview");
        assert_eq!(label("/admin/posts/new"), "/admin/posts/new");
        assert_eq!(label("/admin/whatever"), "other");
        assert_eq!(label("/anything/else/at/all"), "other");
        assert_eq!(label("/debug/x"), "other");
        assert_eq!(label("/metrics"), "/metrics");
    }
}
