//! Posts: the domain rules (titles, slugs, bodies, tags, publish times);
//! reads are in `queries`, writes (through `crate::write`) in `writes`.

mod media;
mod queries;
mod writes;

pub use media::*;
pub use queries::*;
pub use writes::*;

use crate::field_errors::{Field, FieldErrors};
use crate::listing;
use crate::xml_text;
use sqlx::FromRow;

pub const TITLE_MAX: usize = 200;
pub const SLUG_MAX: usize = 100;
pub const BODY_MAX: usize = 256 * 1024;
pub const SUMMARY_CHARS: usize = 240;

#[derive(Debug, Clone, FromRow)]
pub struct Post {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub body_html: String,
    pub summary: String,
    pub published: i64,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub live: i64,
    pub preview_token: Option<String>,
}

impl Post {
    /// The admin's checkbox: live now, or scheduled when `published_at` is ahead.
    pub fn is_published(&self) -> bool {
        self.published != 0
    }

    /// Visible to visitors.
    pub fn is_live(&self) -> bool {
        self.live != 0
    }

    pub fn is_scheduled(&self) -> bool {
        self.is_published() && !self.is_live()
    }
}

/// A post without its body, for listings.
#[derive(Debug, Clone, FromRow)]
pub struct PostSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub published: i64,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub live: i64,
}

/// What the admin submitted, before validation (and what the editor shows
/// again, kept as typed).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PostInput {
    pub title: String,
    pub slug: String,
    pub body: String,
    pub published: bool,
    /// Comma-separated.
    pub tags: String,
    /// UTC, as `<input type="datetime-local">` sends it; empty for none.
    pub publish_at: String,
}

/// Input that passed validation: the title is trimmed, the slug (when
/// given) follows the slug rules, tags are normalized.
#[derive(Debug, Clone)]
pub struct ValidPost {
    pub title: String,
    pub slug: Option<String>,
    pub body: String,
    pub published: bool,
    pub tags: Vec<String>,
    /// Unix seconds.
    pub publish_at: Option<i64>,
}

/// The post form's fields that can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostField {
    Title,
    Slug,
    Body,
    Tags,
    PublishAt,
}

impl Field for PostField {
    const ALL: &'static [Self] = &[
        PostField::Title,
        PostField::Slug,
        PostField::Body,
        PostField::Tags,
        PostField::PublishAt,
    ];

    fn id(self) -> &'static str {
        match self {
            PostField::Title => "title",
            PostField::Slug => "slug",
            PostField::Body => "body",
            PostField::Tags => "tags",
            PostField::PublishAt => "publish_at",
        }
    }
}

pub type PostErrors = FieldErrors<PostField>;

/// Checks every rule and reports every failure with its field, so the form
/// shows them at once, each under its own field.
pub fn validate(input: &PostInput) -> Result<ValidPost, PostErrors> {
    let mut errors = PostErrors::new();
    let title = input.title.trim();
    let title_len = title.chars().count();
    if title_len == 0 {
        errors.push(PostField::Title, "The title is required.");
    } else if title_len > TITLE_MAX {
        errors.push(
            PostField::Title,
            format!("The title is {title_len} characters long; the limit is {TITLE_MAX}."),
        );
    } else if let Some(message) = xml_text::refusal("title", title) {
        errors.push(PostField::Title, message);
    }
    let slug = input.slug.trim();
    if !slug.is_empty() && !is_valid_slug(slug) {
        errors.push(
            PostField::Slug,
            format!(
                "The slug may only hold lowercase letters, digits and hyphens, 1 to {SLUG_MAX} of them."
            ),
        );
    }
    if input.body.len() > BODY_MAX {
        errors.push(
            PostField::Body,
            format!(
                "The body is {} KiB; the limit is 256 KiB.",
                input.body.len() / 1024
            ),
        );
    }
    let tags = listing::parse_tags(&input.tags).unwrap_or_else(|messages| {
        for message in messages {
            errors.push(PostField::Tags, message);
        }
        Vec::new()
    });
    let publish_at = match input.publish_at.trim() {
        "" => None,
        at => match parse_publish_at(at) {
            Some(seconds) if in_years(seconds) => Some(seconds),
            Some(_) => {
                errors.push(
                    PostField::PublishAt,
                    format!(
                        "The publish time \u{201c}{at}\u{201d} must be in the years {} to {}.",
                        xml_text::YEARS.start(),
                        xml_text::YEARS.end()
                    ),
                );
                None
            }
            None => {
                errors.push(
                    PostField::PublishAt,
                    format!(
                        "The publish time \u{201c}{at}\u{201d} must be a UTC date and time like 2026-11-22T09:30."
                    ),
                );
                None
            }
        },
    };
    errors.into_result(|| ValidPost {
        title: title.to_string(),
        slug: (!slug.is_empty()).then(|| slug.to_string()),
        // Pasted text may carry characters no feed can: they are dropped.
        body: xml_text::strip(&input.body).into_owned(),
        published: input.published,
        tags,
        publish_at,
    })
}

/// `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS`, in UTC.
pub fn parse_publish_at(value: &str) -> Option<i64> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
        .map(|at| at.and_utc().timestamp())
}

/// Whether a time falls in the years a publish time may have.
fn in_years(at: i64) -> bool {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(at, 0).is_some_and(|d| xml_text::YEARS.contains(&d.year()))
}

/// The form's value for a stored time, to the second: a form saved as it
/// was shown then keeps the exact time (and so the post's place).
pub fn format_publish_at(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map_or_else(String::new, |d| d.format("%Y-%m-%dT%H:%M:%S").to_string())
}

/// `[a-z0-9-]{1,100}`.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= SLUG_MAX
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Lowercase ASCII words joined by hyphens; `post` when nothing is left.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.chars().take(SLUG_MAX - 4).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        "post".to_string()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str, slug: &str, body: &str) -> PostInput {
        PostInput {
            title: title.into(),
            slug: slug.into(),
            body: body.into(),
            published: true,
            ..Default::default()
        }
    }

    #[test]
    fn slugify_makes_lowercase_hyphenated_words() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Rust & Redis: 2 caches  "), "rust-redis-2-caches");
        assert_eq!(slugify("Ünïcode"), "n-code");
        assert_eq!(slugify("!!!"), "post");
        assert_eq!(slugify(""), "post");
    }

    #[test]
    fn slugify_output_is_always_a_valid_slug() {
        for title in [
            "a",
            "A very long title ".repeat(20).as_str(),
            "--x--",
            "日本語",
        ] {
            assert!(is_valid_slug(&slugify(title)), "{title}");
        }
    }

    #[test]
    fn slug_rules() {
        assert!(is_valid_slug("hello-world-2"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug("Hello"));
        assert!(!is_valid_slug("a b"));
        assert!(!is_valid_slug("a/b"));
        assert!(!is_valid_slug(&"a".repeat(101)));
        assert!(is_valid_slug(&"a".repeat(100)));
    }

    #[test]
    fn validation_accepts_a_good_post_and_trims_the_title() {
        let v = validate(&input("  Hello  ", "", "body")).unwrap();
        assert_eq!(v.title, "Hello");
        assert_eq!(v.slug, None);
    }

    #[test]
    fn validation_reports_every_problem() {
        let errors = validate(&input(" ", "Bad Slug", &"x".repeat(BODY_MAX + 1))).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        for field in [PostField::Title, PostField::Slug, PostField::Body] {
            assert_eq!(errors.of(field).count(), 1, "{field:?}: {errors:?}");
        }
    }

    #[test]
    fn publish_times_are_utc_minutes_or_seconds() {
        assert_eq!(parse_publish_at("1970-01-01T00:01"), Some(60));
        assert_eq!(parse_publish_at("1970-01-01T00:01:30"), Some(90));
        assert_eq!(parse_publish_at("2026-13-01T00:00"), None);
        assert_eq!(parse_publish_at("tomorrow"), None);
        assert_eq!(format_publish_at(90), "1970-01-01T00:01:30");
    }

    #[test]
    fn invalid_tags_and_times_are_reported_with_the_rest() {
        let mut bad = input("T", "", "");
        bad.tags = "ok, c++".into();
        bad.publish_at = "soon".into();
        let errors = validate(&bad).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors.of(PostField::Tags).next().unwrap().contains("c++"));
        assert!(
            errors
                .of(PostField::PublishAt)
                .next()
                .unwrap()
                .contains("soon")
        );
    }

    #[test]
    fn publish_times_must_fall_in_the_years_1970_to_9999() {
        let at = |value: &str| {
            let mut post = input("T", "", "");
            post.publish_at = value.into();
            validate(&post).map(|v| v.publish_at)
        };
        for bad in [
            "-0001-01-01T00:00",
            "0000-01-01T00:00",
            "1969-12-31T23:59:59",
        ] {
            assert!(at(bad).is_err(), "{bad}");
        }
        assert_eq!(at("1970-01-01T00:00").unwrap(), Some(0));
        assert_eq!(at("9999-12-31T23:59:59").unwrap(), Some(253_402_300_799));
    }

    #[test]
    fn titles_are_limited_to_200_characters() {
        assert!(validate(&input(&"é".repeat(200), "", "")).is_ok());
        assert!(validate(&input(&"é".repeat(201), "", "")).is_err());
    }
}
