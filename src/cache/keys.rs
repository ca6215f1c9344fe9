//! Every Redis key folio writes, and the cacheable pages behind the `view/`
//! ones: `{prefix}view/{path}`, where the path keeps only the query
//! parameters the page uses, normalized, so the keyspace is bounded by the
//! pages that exist.

use crate::listing;

/// A cacheable page. Parsing a request and printing a key are inverse:
/// `Page::parse(page.path())` gives the page back, which is how re-warming
/// turns a removed key into a render.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Page {
    /// `/` (page 1) and `/?page=N`.
    Index(u32),
    /// `/posts/{slug}`.
    Post(String),
    /// `/feed.xml`.
    Feed,
    /// `/tags`.
    Tags,
    /// `/tags/{tag}` and `/tags/{tag}?page=N`.
    Tag(String, u32),
    /// `/tags/{tag}/feed.xml`.
    TagFeed(String),
    /// `/about`.
    About,
    /// `/sitemap.xml`.
    Sitemap,
}

/// The route a page belongs to, for per-route counts and TTLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Index,
    Post,
    Feed,
    Tags,
    Tag,
    TagFeed,
    About,
    Sitemap,
}

impl Route {
    pub const ALL: [Route; 8] = [
        Route::Index,
        Route::Post,
        Route::Feed,
        Route::Tags,
        Route::Tag,
        Route::TagFeed,
        Route::About,
        Route::Sitemap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Index => "index",
            Route::Post => "post",
            Route::Feed => "feed",
            Route::Tags => "tags",
            Route::Tag => "tag",
            Route::TagFeed => "tag_feed",
            Route::About => "about",
            Route::Sitemap => "sitemap",
        }
    }
}

impl Page {
    /// The page a public request asks for, or `None` when the URL is not a
    /// page that can exist (answered `404` and never stored). Unknown query
    /// parameters are dropped; only list pages read `page`.
    pub fn parse(path: &str, query: &str) -> Option<Page> {
        match path {
            "/" => Some(Page::Index(page_number(query)?)),
            "/feed.xml" => Some(Page::Feed),
            "/tags" => Some(Page::Tags),
            "/about" => Some(Page::About),
            "/sitemap.xml" => Some(Page::Sitemap),
            _ => {
                if let Some(slug) = path.strip_prefix("/posts/") {
                    return crate::posts::is_valid_slug(slug).then(|| Page::Post(slug.to_string()));
                }
                let rest = path.strip_prefix("/tags/")?;
                if let Some(tag) = rest.strip_suffix("/feed.xml") {
                    return listing::is_valid_tag(tag).then(|| Page::TagFeed(tag.to_string()));
                }
                if !listing::is_valid_tag(rest) {
                    return None;
                }
                Some(Page::Tag(rest.to_string(), page_number(query)?))
            }
        }
    }

    /// The normalized request path, e.g. `/`, `/?page=2`, `/posts/hello`.
    pub fn path(&self) -> String {
        match self {
            Page::Index(1) => "/".to_string(),
            Page::Index(n) => format!("/?page={n}"),
            Page::Post(slug) => format!("/posts/{slug}"),
            Page::Feed => "/feed.xml".to_string(),
            Page::Tags => "/tags".to_string(),
            Page::Tag(tag, 1) => format!("/tags/{tag}"),
            Page::Tag(tag, n) => format!("/tags/{tag}?page={n}"),
            Page::TagFeed(tag) => format!("/tags/{tag}/feed.xml"),
            Page::About => "/about".to_string(),
            Page::Sitemap => "/sitemap.xml".to_string(),
        }
    }

    /// The page behind a normalized path (the inverse of `path`).
    pub fn from_path(path: &str) -> Option<Page> {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        Page::parse(path, query)
    }

    pub fn route(&self) -> Route {
        match self {
            Page::Index(_) => Route::Index,
            Page::Post(_) => Route::Post,
            Page::Feed => Route::Feed,
            Page::Tags => Route::Tags,
            Page::Tag(..) => Route::Tag,
            Page::TagFeed(_) => Route::TagFeed,
            Page::About => Route::About,
            Page::Sitemap => Route::Sitemap,
        }
    }
}

/// The `page` query parameter of a list. Missing is page 1; a value that is
/// not a positive integer is `None` (answered with 404). The first wins.
pub fn page_number(query: &str) -> Option<u32> {
    let value = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "page")
        .map(|(_, value)| value.into_owned());
    match value {
        None => Some(1),
        Some(v) => {
            let v = v.trim();
            // Plain digits only: no signs, no exponents.
            if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            v.parse::<u32>().ok().filter(|&n| n >= 1)
        }
    }
}

/// The names of every Redis key of one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_string(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A page's cached render.
    pub fn view(&self, page: &Page) -> String {
        format!("{}view/{}", self.prefix, page.path())
    }

    /// The generation: replaced by every invalidation, so a fill that read
    /// the database before it can tell (see `scripts::FILL`).
    pub fn generation(&self) -> String {
        format!("{}gen", self.prefix)
    }

    /// The site version every stored entry was rendered under: a settings
    /// change moves it, making every entry unreadable at once.
    pub fn epoch(&self) -> String {
        format!("{}epoch", self.prefix)
    }

    /// The sequence number of the newest write Redis has applied, compared
    /// with the database's to notice a Redis that went back in time.
    pub fn seq(&self) -> String {
        format!("{}seq", self.prefix)
    }

    pub fn stats(&self) -> String {
        format!("{}stats", self.prefix)
    }

    /// Per instance: when it last sent its counts, and the number of its last batch.
    pub fn instances(&self) -> String {
        format!("{}stats:instances", self.prefix)
    }

    /// Per instance: the number of its last batch of counts Redis added.
    pub fn batches(&self) -> String {
        format!("{}stats:batches", self.prefix)
    }

    pub fn minute(&self, minute: i64) -> String {
        format!("{}stats:minute:{minute}", self.prefix)
    }

    /// The invalidation log: a sorted set of JSON entries scored by commit
    /// time (ms), so it reads newest first whatever order they arrived in.
    /// (Not `invalidations`, the list it replaced, to avoid WRONGTYPE.)
    pub fn log(&self) -> String {
        format!("{}invalidation_log", self.prefix)
    }

    /// The pages stored most recently (miss fills and re-warms), scored by
    /// Redis time in ms and kept to the newest 500 (see `scripts::FILL`): what re-warm
    /// renders after a change of every page, found without a scan.
    pub fn read(&self) -> String {
        format!("{}read", self.prefix)
    }

    /// Glob matching every view key of this prefix, for SCAN; glob
    /// metacharacters in the prefix are escaped so another app's keys never match.
    pub fn view_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.prefix.len() + 8);
        for c in self.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push_str("view/*");
        pattern
    }

    /// The page behind one of this prefix's view keys.
    pub fn page_of(&self, key: &str) -> Option<Page> {
        Page::from_path(key.strip_prefix(&self.prefix)?.strip_prefix("view/")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(page: Page) -> String {
        Keys::new("folio:").view(&page)
    }

    #[test]
    fn keys_follow_the_flask_caching_convention() {
        assert_eq!(key(Page::Index(1)), "folio:view//");
        assert_eq!(key(Page::Index(3)), "folio:view//?page=3");
        assert_eq!(
            key(Page::Post("hello-world".into())),
            "folio:view//posts/hello-world"
        );
        assert_eq!(key(Page::Feed), "folio:view//feed.xml");
        assert_eq!(key(Page::Tag("rust".into(), 1)), "folio:view//tags/rust");
        assert_eq!(
            key(Page::Tag("rust".into(), 2)),
            "folio:view//tags/rust?page=2"
        );
        assert_eq!(
            key(Page::TagFeed("rust".into())),
            "folio:view//tags/rust/feed.xml"
        );
        assert_eq!(key(Page::About), "folio:view//about");
        assert_eq!(key(Page::Sitemap), "folio:view//sitemap.xml");
    }

    #[test]
    fn every_key_parses_back_to_its_page() {
        let keys = Keys::new("p:");
        for page in [
            Page::Index(1),
            Page::Index(7),
            Page::Post("a-b".into()),
            Page::Feed,
            Page::Tags,
            Page::Tag("x".into(), 1),
            Page::Tag("x".into(), 4),
            Page::TagFeed("x-y".into()),
            Page::About,
            Page::Sitemap,
        ] {
            assert_eq!(keys.page_of(&keys.view(&page)), Some(page));
        }
        assert_eq!(keys.page_of("other:view//"), None);
    }

    #[test]
    fn page_one_and_no_page_are_the_same_page() {
        assert_eq!(page_number(""), Some(1));
        assert_eq!(page_number("page=1"), Some(1));
        assert_eq!(page_number("utm_source=x&page=01"), Some(1));
        assert_eq!(page_number("page=2&page=3"), Some(2));
        assert_eq!(Page::parse("/", "page=1&x=y"), Some(Page::Index(1)));
    }

    #[test]
    fn malformed_pages_are_rejected() {
        for q in [
            "page=0",
            "page=-1",
            "page=abc",
            "page=1e3",
            "page=99999999999999999999",
            "page=",
            "page=%2B2",
        ] {
            assert_eq!(page_number(q), None, "{q}");
        }
    }

    #[test]
    fn unknown_parameters_are_dropped() {
        assert_eq!(page_number("foo=bar&baz"), Some(1));
        assert_eq!(Page::parse("/about", "page=3"), Some(Page::About));
    }

    #[test]
    fn urls_that_cannot_be_pages_are_not_pages() {
        assert_eq!(Page::parse("/posts/Bad Slug", ""), None);
        assert_eq!(Page::parse("/tags/UPPER", ""), None);
        assert_eq!(Page::parse("/tags/a/b", ""), None);
        assert_eq!(Page::parse("/nothing", ""), None);
    }

    #[test]
    fn view_pattern_escapes_glob_characters() {
        assert_eq!(Keys::new("folio:").view_pattern(), "folio:view/*");
        assert_eq!(Keys::new("a*[b]:").view_pattern(), "a\\*\\[b\\]:view/*");
    }
}
