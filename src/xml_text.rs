//! The characters XML 1.0 allows, and the dates feeds may carry: what every
//! feed and sitemap needs to stay well-formed whatever was typed. Forms
//! refuse forbidden characters in one-line fields and strip them from pasted
//! text (bodies, the about page); renders of XML filter them again, for rows
//! written before these checks.

use std::borrow::Cow;

/// The earliest and latest years a publish time may have: RFC 3339 needs four
/// digits, and nothing on a blog is older than the Unix epoch.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// Whether XML 1.0 forbids `c` anywhere in a document (its `Char`
/// production: tab, newline, carriage return, and U+0020 up, less U+FFFE and
/// U+FFFF; Rust strings hold no surrogates).
pub fn forbidden(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => true,
        _ => false,
    }
}

/// The first character of `text` XML forbids, if any.
pub fn first_forbidden(text: &str) -> Option<char> {
    text.chars().find(|&c| forbidden(c))
}

/// A message naming the character a one-line field may not hold, or `None`
/// when it holds none. Other control characters (C1) are refused too: they
/// are invisible and never typed on purpose.
pub fn refusal(field: &str, text: &str) -> Option<String> {
    let c = text.chars().find(|&c| forbidden(c) || c.is_control())?;
    Some(format!(
        "The {field} cannot contain the invisible character U+{:04X}.",
        u32::from(c)
    ))
}

/// `text` without the characters XML forbids; borrowed when it has none.
pub fn strip(text: &str) -> Cow<'_, str> {
    if first_forbidden(text).is_none() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| !forbidden(c)).collect())
    }
}

/// `strip` for an owned string: no copy when there is nothing to remove.
pub fn strip_owned(text: String) -> String {
    match strip(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(clean) => clean,
    }
}

/// Unix seconds clamped to the years RFC 3339 can write (`YEARS`), for a
/// row stored before publish times were checked.
pub fn clamp_timestamp(at: i64) -> i64 {
    // 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    at.clamp(0, 253_402_300_799)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORBIDDEN: [char; 8] = [
        '\u{0}', '\u{8}', '\u{B}', '\u{C}', '\u{1B}', '\u{1F}', '\u{FFFE}', '\u{FFFF}',
    ];

    #[test]
    fn the_characters_xml_forbids_are_the_c0_controls_and_two_noncharacters() {
        for c in FORBIDDEN {
            assert!(forbidden(c), "U+{:04X}", u32::from(c));
        }
        for c in [
            '\t',
            '\n',
            '\r',
            ' ',
            'é',
            '\u{85}',
            '\u{FFFD}',
            '\u{10000}',
        ] {
            assert!(!forbidden(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn strip_removes_only_what_xml_forbids_and_copies_nothing_otherwise() {
        assert!(matches!(strip("plain\ttext\n"), Cow::Borrowed(_)));
        let dirty: String = FORBIDDEN.iter().flat_map(|&c| [c, 'x']).collect();
        assert_eq!(strip(&dirty), "xxxxxxxx");
        assert_eq!(strip_owned(dirty), "xxxxxxxx");
    }

    #[test]
    fn refusal_names_the_character() {
        assert_eq!(refusal("title", "fine"), None);
        assert!(refusal("title", "a\u{FFFF}").unwrap().contains("U+FFFF"));
        assert!(refusal("title", "a\u{8}").unwrap().contains("U+0008"));
        assert!(refusal("title", "a\u{85}").unwrap().contains("U+0085"));
    }

    #[test]
    fn timestamps_are_clamped_to_four_digit_years() {
        let year = |at| {
            chrono::DateTime::from_timestamp(at, 0)
                .unwrap()
                .format("%Y")
                .to_string()
        };
        assert_eq!(year(clamp_timestamp(-62_198_755_200)), "1970");
        assert_eq!(year(clamp_timestamp(i64::MAX / 1_000_000)), "9999");
        assert_eq!(clamp_timestamp(1_800_000_000), 1_800_000_000);
    }
}
