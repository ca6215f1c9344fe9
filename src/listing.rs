//! How published posts are listed: page size, feed length, and the tag rules.
//! The dependency model (`cache::deps`), the pages and the seed all read these.

/// Posts per index or tag page.
pub const PAGE_SIZE: i64 = 10;
/// Entries per Atom feed.
pub const FEED_LEN: i64 = 20;
/// Tags one post may carry.
pub const MAX_TAGS: usize = 10;
pub const TAG_MAX: usize = 40;

/// Number of list pages for `n` posts (page 1 always exists).
pub fn page_count(n: i64) -> i64 {
    ((n + PAGE_SIZE - 1) / PAGE_SIZE).max(1)
}

/// The page a 0-based list position is on.
pub fn page_of(position: i64) -> i64 {
    position / PAGE_SIZE + 1
}

/// `[a-z0-9-]{1,40}`.
pub fn is_valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= TAG_MAX
        && tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The tags of a comma-separated field: each trimmed, lowercased, inner
/// whitespace runs made one `-`; empty items ignored, duplicates collapsed,
/// first-seen order kept. Every invalid item is reported.
pub fn parse_tags(field: &str) -> Result<Vec<String>, Vec<String>> {
    let mut tags: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for item in field.split(',') {
        let tag = item
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        if tag.is_empty() && !item.contains(crate::xml_text::forbidden) {
            continue;
        }
        // Checked before the whitespace rule, which would turn U+000B and
        // U+000C (whitespace XML forbids) into hyphens.
        if !is_valid_tag(&tag) || item.contains(crate::xml_text::forbidden) {
            errors.push(format!(
                "The tag \u{201c}{}\u{201d} may only hold letters a–z, digits and hyphens, 1 to {TAG_MAX} of them.",
                item.trim()
            ));
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        errors.push(format!(
            "A post may have at most {MAX_TAGS} tags; this one has {}.",
            tags.len()
        ));
    }
    if errors.is_empty() {
        Ok(tags)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_lowercased_and_hyphenated() {
        assert_eq!(
            parse_tags(" Rust ,  Web  Dev,,rust, a-1 ").unwrap(),
            vec!["rust", "web-dev", "a-1"]
        );
        assert_eq!(parse_tags("").unwrap(), Vec::<String>::new());
        assert_eq!(parse_tags(" , ,").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn invalid_tags_are_reported() {
        assert!(parse_tags("c++").is_err());
        assert!(parse_tags("émoji").is_err());
        assert!(parse_tags(&"a".repeat(41)).is_err());
        assert!(parse_tags(&"a".repeat(40)).is_ok());
        // Whitespace XML forbids is refused, not turned into a hyphen.
        assert!(parse_tags("web\u{B}dev").is_err());
        assert!(parse_tags("rust, \u{C}").is_err());
        assert!(parse_tags("web\tdev").is_ok());
    }

    #[test]
    fn at_most_ten_tags() {
        let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&ten.join(",")).is_ok());
        assert!(parse_tags(&format!("{},t10", ten.join(","))).is_err());
        // Duplicates collapse before counting.
        assert!(parse_tags(&format!("{},t0", ten.join(","))).is_ok());
    }

    #[test]
    fn page_counts() {
        assert_eq!(page_count(0), 1);
        assert_eq!(page_count(10), 1);
        assert_eq!(page_count(11), 2);
        assert_eq!(page_of(9), 1);
        assert_eq!(page_of(10), 2);
    }
}
