//! Posts: the domain rules (titles, slugs, bodies) and every query on them.
//!
//! Each write is one transaction that also records which cached pages it made
//! stale (see `cache::deps`), so the change and its invalidation commit together.

use crate::cache::deps::{self, Change, Listed};
use crate::cache::keys::Page;
use crate::cache::outbox;
use crate::db::{self, Db};
use crate::markdown;
use sqlx::{Any, FromRow, Transaction};

pub const TITLE_MAX: usize = 200;
pub const SLUG_MAX: usize = 100;
pub const BODY_MAX: usize = 256 * 1024;
const SUMMARY_CHARS: usize = 240;

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
}

impl Post {
    pub fn is_published(&self) -> bool {
        self.published != 0
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
}

/// What the admin submitted, before validation.
#[derive(Debug, Clone, Default)]
pub struct PostInput {
    pub title: String,
    pub slug: String,
    pub body: String,
    pub published: bool,
}

/// Input that passed validation: the title is trimmed and the slug, when
/// given, follows the slug rules.
#[derive(Debug, Clone)]
pub struct ValidPost {
    pub title: String,
    pub slug: Option<String>,
    pub body: String,
    pub published: bool,
}

/// Checks every rule and reports every failure, so the form shows them at once.
pub fn validate(input: &PostInput) -> Result<ValidPost, Vec<String>> {
    let mut errors = Vec::new();
    let title = input.title.trim();
    let title_len = title.chars().count();
    if title_len == 0 {
        errors.push("The title is required.".to_string());
    } else if title_len > TITLE_MAX {
        errors.push(format!(
            "The title is {title_len} characters long; the limit is {TITLE_MAX}."
        ));
    } else if title.chars().any(char::is_control) {
        errors.push("The title cannot contain control characters.".to_string());
    }
    let slug = input.slug.trim();
    if !slug.is_empty() && !is_valid_slug(slug) {
        errors.push(format!(
            "The slug may only hold lowercase letters, digits and hyphens, 1 to {SLUG_MAX} of them."
        ));
    }
    if input.body.len() > BODY_MAX {
        errors.push(format!(
            "The body is {} KiB; the limit is 256 KiB.",
            input.body.len() / 1024
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidPost {
        title: title.to_string(),
        slug: (!slug.is_empty()).then(|| slug.to_string()),
        body: input.body.clone(),
        published: input.published,
    })
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

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid post")]
    Invalid(Vec<String>),
    #[error("post not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A committed write: the post as saved (none after a delete) and the cached
/// pages it made stale, recorded in the outbox row `outbox_id`.
#[derive(Debug)]
pub struct Written {
    pub post: Option<Post>,
    pub stale: Vec<Page>,
    pub outbox_id: i64,
}

// Macros rather than consts so the queries stay `&'static str`, which sqlx
// accepts as audited SQL.
macro_rules! post_columns {
    () => {
        "id, slug, title, body, body_html, summary, published, published_at, created_at, updated_at"
    };
}
macro_rules! summary_columns {
    () => {
        "id, slug, title, summary, published, published_at, created_at, updated_at"
    };
}

pub async fn by_slug(db: &Db, slug: &str) -> sqlx::Result<Option<Post>> {
    sqlx::query_as::<_, Post>(concat!(
        "SELECT ",
        post_columns!(),
        " FROM posts WHERE slug = $1"
    ))
    .bind(slug)
    .fetch_optional(db)
    .await
}

pub async fn by_id(db: &Db, id: i64) -> sqlx::Result<Option<Post>> {
    sqlx::query_as::<_, Post>(concat!(
        "SELECT ",
        post_columns!(),
        " FROM posts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Published posts, newest first: page `page` (1-based) of `per_page`.
pub async fn published_page(db: &Db, page: u32, per_page: i64) -> sqlx::Result<Vec<PostSummary>> {
    let offset = (i64::from(page) - 1) * per_page;
    sqlx::query_as::<_, PostSummary>(concat!(
        "SELECT ",
        summary_columns!(),
        " FROM posts WHERE published = 1 \
         ORDER BY published_at DESC, id DESC LIMIT $1 OFFSET $2"
    ))
    .bind(per_page)
    .bind(offset)
    .fetch_all(db)
    .await
}

pub async fn published_count(db: &Db) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE published = 1")
        .fetch_one(db)
        .await
}

/// The newest published posts with their bodies, for the feed.
pub async fn newest_published(db: &Db, limit: i64) -> sqlx::Result<Vec<Post>> {
    sqlx::query_as::<_, Post>(concat!(
        "SELECT ",
        post_columns!(),
        " FROM posts WHERE published = 1 \
         ORDER BY published_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Every post, drafts included, for the admin.
pub async fn all(db: &Db) -> sqlx::Result<Vec<PostSummary>> {
    sqlx::query_as::<_, PostSummary>(concat!(
        "SELECT ",
        summary_columns!(),
        " FROM posts \
         ORDER BY COALESCE(published_at, created_at) DESC, id DESC"
    ))
    .fetch_all(db)
    .await
}

pub async fn create(db: &Db, post: ValidPost) -> Result<Written, WriteError> {
    let mut tx = begin_write(db).await?;
    let total_before = count_published(&mut tx).await?;
    let slug = resolve_slug(&mut tx, &post, None).await?;
    let now = db::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO posts (slug, title, body, body_html, summary, published, published_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(&slug)
    .bind(&post.title)
    .bind(&post.body)
    .bind(markdown::to_safe_html(&post.body))
    .bind(markdown::summary(&post.body, SUMMARY_CHARS))
    .bind(i64::from(post.published))
    .bind(post.published.then_some(now))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let saved = fetch(&mut tx, id).await?.ok_or(WriteError::NotFound)?;
    let change = Change {
        before: None,
        after: Some(listed(&mut tx, &saved).await?),
        published_before: total_before,
        published_after: count_published(&mut tx).await?,
    };
    finish(tx, Some(saved), &change).await
}

pub async fn update(db: &Db, id: i64, post: ValidPost) -> Result<Written, WriteError> {
    let mut tx = begin_write(db).await?;
    let old = fetch(&mut tx, id).await?.ok_or(WriteError::NotFound)?;
    let before = listed(&mut tx, &old).await?;
    let total_before = count_published(&mut tx).await?;
    let slug = resolve_slug(&mut tx, &post, Some(id)).await?;
    let now = db::now();
    // A post keeps its place in the list: republishing does not bump it.
    let published_at = match (post.published, old.published_at) {
        (true, None) => Some(now),
        (_, at) => at,
    };
    sqlx::query(
        "UPDATE posts SET slug = $1, title = $2, body = $3, body_html = $4, summary = $5, \
         published = $6, published_at = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(&slug)
    .bind(&post.title)
    .bind(&post.body)
    .bind(markdown::to_safe_html(&post.body))
    .bind(markdown::summary(&post.body, SUMMARY_CHARS))
    .bind(i64::from(post.published))
    .bind(published_at)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let saved = fetch(&mut tx, id).await?.ok_or(WriteError::NotFound)?;
    let change = Change {
        before: Some(before),
        after: Some(listed(&mut tx, &saved).await?),
        published_before: total_before,
        published_after: count_published(&mut tx).await?,
    };
    finish(tx, Some(saved), &change).await
}

pub async fn delete(db: &Db, id: i64) -> Result<Written, WriteError> {
    let mut tx = begin_write(db).await?;
    let old = fetch(&mut tx, id).await?.ok_or(WriteError::NotFound)?;
    let before = listed(&mut tx, &old).await?;
    let total_before = count_published(&mut tx).await?;
    sqlx::query("DELETE FROM posts WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let change = Change {
        before: Some(before),
        after: None,
        published_before: total_before,
        published_after: count_published(&mut tx).await?,
    };
    finish(tx, None, &change).await
}

/// Starts a write. Bumping the single `write_lock` row first makes writers
/// take turns on both databases, so positions computed inside are stable.
pub(crate) async fn begin_write(db: &Db) -> sqlx::Result<Transaction<'static, Any>> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE write_lock SET seq = seq + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

async fn finish(
    mut tx: Transaction<'static, Any>,
    post: Option<Post>,
    change: &Change,
) -> Result<Written, WriteError> {
    let stale = deps::stale_pages(change);
    let outbox_id = outbox::record(&mut tx, &stale).await?;
    tx.commit().await?;
    Ok(Written {
        post,
        stale,
        outbox_id,
    })
}

async fn fetch(tx: &mut Transaction<'static, Any>, id: i64) -> sqlx::Result<Option<Post>> {
    sqlx::query_as::<_, Post>(concat!(
        "SELECT ",
        post_columns!(),
        " FROM posts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub(crate) async fn count_published(tx: &mut Transaction<'static, Any>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE published = 1")
        .fetch_one(&mut **tx)
        .await
}

/// Where a post sits in the public list (0 = newest), if it is in it.
async fn listed(tx: &mut Transaction<'static, Any>, post: &Post) -> sqlx::Result<Listed> {
    let position = match (post.is_published(), post.published_at) {
        (true, Some(at)) => Some(
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM posts WHERE published = 1 \
                 AND (published_at > $1 OR (published_at = $1 AND id > $2))",
            )
            .bind(at)
            .bind(post.id)
            .fetch_one(&mut **tx)
            .await?,
        ),
        _ => None,
    };
    Ok(Listed {
        slug: post.slug.clone(),
        position,
    })
}

/// The slug to store: the one given (which must be free), or one derived from
/// the title with a numeric suffix when the plain form is taken.
async fn resolve_slug(
    tx: &mut Transaction<'static, Any>,
    post: &ValidPost,
    own_id: Option<i64>,
) -> Result<String, WriteError> {
    if let Some(slug) = &post.slug {
        if slug_taken(tx, slug, own_id).await? {
            return Err(WriteError::Invalid(vec![format!(
                "The slug \u{201c}{slug}\u{201d} is already used by another post."
            )]));
        }
        return Ok(slug.clone());
    }
    let base = slugify(&post.title);
    let mut candidate = base.clone();
    let mut n = 2;
    while slug_taken(tx, &candidate, own_id).await? {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    Ok(candidate)
}

async fn slug_taken(
    tx: &mut Transaction<'static, Any>,
    slug: &str,
    own_id: Option<i64>,
) -> sqlx::Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE slug = $1 AND id <> $2")
        .bind(slug)
        .bind(own_id.unwrap_or(-1))
        .fetch_one(&mut **tx)
        .await?;
    Ok(count > 0)
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
    }

    #[test]
    fn titles_are_limited_to_200_characters() {
        assert!(validate(&input(&"é".repeat(200), "", "")).is_ok());
        assert!(validate(&input(&"é".repeat(201), "", "")).is_err());
    }
}
