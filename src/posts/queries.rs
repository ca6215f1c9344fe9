//! Reads of posts and tags. Each takes any executor, so the same query runs
//! on the pool for pages and inside a write's transaction.

use super::{Post, PostSummary};
use sqlx::{Any, AnyConnection, Encode, Executor, Type};
use std::collections::HashMap;

// Macros rather than consts so the queries stay `&'static str`, which sqlx
// accepts as audited SQL.
macro_rules! post_columns {
    () => {
        "id, slug, title, body, body_html, summary, published, published_at, created_at, updated_at, live, preview_token"
    };
}
macro_rules! summary_columns {
    () => {
        "id, slug, title, summary, published, published_at, created_at, updated_at, live"
    };
}
/// The post whose unique `column` is `$1`.
macro_rules! post_where {
    ($column:literal) => {
        concat!(
            "SELECT ",
            post_columns!(),
            " FROM posts WHERE ",
            $column,
            " = $1"
        )
    };
}
/// Live posts, newest first; ties (same second) broken by id.
macro_rules! newest_first {
    () => {
        " ORDER BY published_at DESC, id DESC"
    };
}

pub async fn by_slug<'e>(
    ex: impl Executor<'e, Database = Any>,
    slug: &str,
) -> sqlx::Result<Option<Post>> {
    one_post(ex, post_where!("slug"), slug).await
}

pub async fn by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> sqlx::Result<Option<Post>> {
    one_post(ex, post_where!("id"), id).await
}

pub async fn by_preview_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    token: &str,
) -> sqlx::Result<Option<Post>> {
    one_post(ex, post_where!("preview_token"), token).await
}

/// The post `sql` (a `post_where!`) finds with `key`, if any.
async fn one_post<'e, 'k, K>(
    ex: impl Executor<'e, Database = Any>,
    sql: &'static str,
    key: K,
) -> sqlx::Result<Option<Post>>
where
    K: 'k + Send + Encode<'k, Any> + Type<Any>,
{
    sqlx::query_as::<_, Post>(sql)
        .bind(key)
        .fetch_optional(ex)
        .await
}

/// Live posts: page `page` (1-based) of `per_page`.
pub async fn published_page<'e>(
    ex: impl Executor<'e, Database = Any>,
    page: u32,
    per_page: i64,
) -> sqlx::Result<Vec<PostSummary>> {
    sqlx::query_as::<_, PostSummary>(concat!(
        "SELECT ",
        summary_columns!(),
        " FROM posts WHERE live = 1",
        newest_first!(),
        " LIMIT $1 OFFSET $2"
    ))
    .bind(per_page)
    .bind((i64::from(page) - 1) * per_page)
    .fetch_all(ex)
    .await
}

pub async fn published_count<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE live = 1")
        .fetch_one(ex)
        .await
}

/// The newest live posts with their bodies, for the feed.
pub async fn newest_published<'e>(
    ex: impl Executor<'e, Database = Any>,
    limit: i64,
) -> sqlx::Result<Vec<Post>> {
    sqlx::query_as::<_, Post>(concat!(
        "SELECT ",
        post_columns!(),
        " FROM posts WHERE live = 1",
        newest_first!(),
        " LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Live posts with `tag`: page `page` of `per_page`.
pub async fn tag_page<'e>(
    ex: impl Executor<'e, Database = Any>,
    tag: &str,
    page: u32,
    per_page: i64,
) -> sqlx::Result<Vec<PostSummary>> {
    sqlx::query_as::<_, PostSummary>(concat!(
        "SELECT ",
        summary_columns!(),
        " FROM posts WHERE live = 1 AND id IN (SELECT post_id FROM post_tags WHERE tag = $1)",
        newest_first!(),
        " LIMIT $2 OFFSET $3"
    ))
    .bind(tag)
    .bind(per_page)
    .bind((i64::from(page) - 1) * per_page)
    .fetch_all(ex)
    .await
}

pub async fn tag_count<'e>(ex: impl Executor<'e, Database = Any>, tag: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM posts WHERE live = 1 \
         AND id IN (SELECT post_id FROM post_tags WHERE tag = $1)",
    )
    .bind(tag)
    .fetch_one(ex)
    .await
}

/// The newest live posts with `tag`, with their bodies.
pub async fn tag_newest<'e>(
    ex: impl Executor<'e, Database = Any>,
    tag: &str,
    limit: i64,
) -> sqlx::Result<Vec<Post>> {
    sqlx::query_as::<_, Post>(concat!(
        "SELECT ",
        post_columns!(),
        " FROM posts WHERE live = 1 AND id IN (SELECT post_id FROM post_tags WHERE tag = $1)",
        newest_first!(),
        " LIMIT $2"
    ))
    .bind(tag)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Every tag with live posts, and how many, by name.
pub async fn tag_counts<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT t.tag, COUNT(*) FROM post_tags t JOIN posts p ON p.id = t.post_id \
         WHERE p.live = 1 GROUP BY t.tag ORDER BY t.tag",
    )
    .fetch_all(ex)
    .await
}

/// The tags of one post, by name.
pub async fn tags_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT tag FROM post_tags WHERE post_id = $1 ORDER BY tag")
        .bind(id)
        .fetch_all(ex)
        .await
}

/// The tags of several posts at once, by post id.
pub async fn tags_of_many(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> sqlx::Result<HashMap<i64, Vec<String>>> {
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(tags);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT post_id, tag FROM post_tags WHERE post_id IN ({}) ORDER BY tag",
        placeholders.join(", ")
    );
    // Only placeholders are interpolated; the values are bound.
    let mut query = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    for (id, tag) in query.fetch_all(conn).await? {
        tags.entry(id).or_default().push(tag);
    }
    Ok(tags)
}

/// A neighbour link: slug and title.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Neighbour {
    pub slug: String,
    pub title: String,
}

/// The live posts just newer and just older than a post in the site list.
pub async fn neighbours(
    conn: &mut AnyConnection,
    published_at: i64,
    id: i64,
) -> sqlx::Result<(Option<Neighbour>, Option<Neighbour>)> {
    let newer = sqlx::query_as::<_, Neighbour>(
        "SELECT slug, title FROM posts WHERE live = 1 \
         AND (published_at > $1 OR (published_at = $1 AND id > $2)) \
         ORDER BY published_at ASC, id ASC LIMIT 1",
    )
    .bind(published_at)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let older = sqlx::query_as::<_, Neighbour>(
        "SELECT slug, title FROM posts WHERE live = 1 \
         AND (published_at < $1 OR (published_at = $1 AND id < $2)) \
         ORDER BY published_at DESC, id DESC LIMIT 1",
    )
    .bind(published_at)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok((newer, older))
}

/// Every post, drafts and scheduled ones included, for the admin.
pub async fn all<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<PostSummary>> {
    sqlx::query_as::<_, PostSummary>(concat!(
        "SELECT ",
        summary_columns!(),
        " FROM posts ORDER BY COALESCE(published_at, created_at) DESC, id DESC"
    ))
    .fetch_all(ex)
    .await
}

/// Scheduled posts whose time has come.
pub async fn due<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM posts WHERE published = 1 AND live = 0 AND published_at <= unixepoch() \
         ORDER BY published_at, id",
    )
    .fetch_all(ex)
    .await
}

/// The next scheduled moment, if any.
pub async fn next_due<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MIN(published_at) FROM posts WHERE published = 1 AND live = 0")
        .fetch_one(ex)
        .await
}

/// Every live post's slug and last change, newest first, for the sitemap.
pub async fn sitemap_posts<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(concat!(
        "SELECT slug, updated_at FROM posts WHERE live = 1",
        newest_first!()
    ))
    .fetch_all(ex)
    .await
}
