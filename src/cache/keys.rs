//! The cacheable pages and their Redis keys: `{prefix}view/{path}`, where the
//! path keeps only the query parameters the page uses, normalized, so the
//! keyspace is bounded by the pages that exist.

/// A cacheable page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Page {
    /// `/` (page 1) and `/?page=N`.
    Index(u32),
    /// `/posts/{slug}`.
    Post(String),
    /// `/feed.xml`.
    Feed,
}

/// The route a page belongs to, for per-route counts and TTLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Index,
    Post,
    Feed,
}

impl Route {
    pub const ALL: [Route; 3] = [Route::Index, Route::Post, Route::Feed];

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Index => "index",
            Route::Post => "post",
            Route::Feed => "feed",
        }
    }
}

impl Page {
    /// The normalized request path, e.g. `/`, `/?page=2`, `/posts/hello`.
    pub fn path(&self) -> String {
        match self {
            Page::Index(1) => "/".to_string(),
            Page::Index(n) => format!("/?page={n}"),
            Page::Post(slug) => format!("/posts/{slug}"),
            Page::Feed => "/feed.xml".to_string(),
        }
    }

    pub fn route(&self) -> Route {
        match self {
            Page::Index(_) => Route::Index,
            Page::Post(_) => Route::Post,
            Page::Feed => Route::Feed,
        }
    }

    /// The Redis key of this page's cached render.
    pub fn key(&self, prefix: &str) -> String {
        format!("{prefix}view/{}", self.path())
    }
}

/// The index page a query string asks for. A missing `page` is page 1; a
/// value that is not a positive integer is `None` (answered with 404).
/// Other parameters are ignored. The first `page` wins.
pub fn index_page(query: &str) -> Option<u32> {
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

/// Glob matching every view key of one prefix, for SCAN; glob metacharacters
/// in the prefix are escaped so another app's keys never match.
pub fn view_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 8);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str("view/*");
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_flask_caching_convention() {
        assert_eq!(Page::Index(1).key("folio:"), "folio:view//");
        assert_eq!(Page::Index(3).key("folio:"), "folio:view//?page=3");
        assert_eq!(
            Page::Post("hello-world".into()).key("folio:"),
            "folio:view//posts/hello-world"
        );
        assert_eq!(Page::Feed.key("x:"), "x:view//feed.xml");
    }

    #[test]
    fn page_one_and_no_page_are_the_same_page() {
        assert_eq!(index_page(""), Some(1));
        assert_eq!(index_page("page=1"), Some(1));
        assert_eq!(index_page("utm_source=x&page=01"), Some(1));
        assert_eq!(index_page("page=2&page=3"), Some(2));
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
            assert_eq!(index_page(q), None, "{q}");
        }
    }

    #[test]
    fn unknown_parameters_are_dropped() {
        assert_eq!(index_page("foo=bar&baz"), Some(1));
    }

    #[test]
    fn view_pattern_escapes_glob_characters() {
        assert_eq!(view_pattern("folio:"), "folio:view/*");
        assert_eq!(view_pattern("a*[b]:"), "a\\*\\[b\\]:view/*");
    }
}
