//! Writes of posts. Each is one `crate::write` transaction that gathers, on
//! both sides of the change, the facts `cache::deps` needs (where the post
//! sits in each list it is in, its neighbours), so the stale pages are
//! computed on the same stable list the change was made to.

use super::{
    Post, PostErrors, PostField, SUMMARY_CHARS, ValidPost, by_id, neighbours, slugify, tags_of,
};
use crate::cache::PageCache;
use crate::cache::deps::{self, Change, List, Placement, Shown, Stale};
use crate::db::{self, Db};
use crate::markdown;
use crate::media::{self, ShownMap, store as media_store};
use crate::search;
use crate::write::{self, Cause, Committed, Write};
use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{Any, Arguments, Encode, Transaction, Type};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("invalid post")]
    Invalid(PostErrors),
    #[error("post not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A committed write: the post as saved (none after a delete).
#[derive(Debug)]
pub struct Written {
    pub post: Option<Post>,
    pub committed: Committed,
}

type Tx = Transaction<'static, Any>;

pub async fn create(db: &Db, cache: &PageCache, post: ValidPost) -> Result<Written, WriteError> {
    let mut w = write::begin(db).await?;
    let tx = w.tx();
    let lists = lists_of(&post.tags, &[]);
    let before = side(tx, None, &lists).await?;
    let slug = resolve_slug(tx, &post, None).await?;
    let now = db::now();
    let token = crate::token::random_hex(16);
    let uploads = uploads_in(tx, &post.body).await?;
    let shown = (&post, &uploads);
    let fields = stored_fields(&slug, shown, publication(&post, None, now), now, token)?;
    let id: i64 = sqlx::query_scalar_with(
        "INSERT INTO posts (slug, title, body, body_html, summary, published, published_at, \
         created_at, updated_at, live, preview_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id",
        fields,
    )
    .fetch_one(&mut **tx)
    .await?;
    set_tags(tx, id, &post.tags).await?;
    media_store::set_usage(tx, id, &uploads).await?;
    finish(w, cache, id, before, &lists, Cause::Create(id)).await
}

pub async fn update(
    db: &Db,
    cache: &PageCache,
    id: i64,
    post: ValidPost,
) -> Result<Written, WriteError> {
    let mut w = write::begin(db).await?;
    let tx = w.tx();
    let old = by_id(&mut **tx, id).await?.ok_or(WriteError::NotFound)?;
    let old_tags = tags_of(&mut **tx, id).await?;
    let lists = lists_of(&post.tags, &old_tags);
    let before = side(tx, Some(&old), &lists).await?;
    let slug = resolve_slug(tx, &post, Some(id)).await?;
    let now = db::now();
    let uploads = uploads_in(tx, &post.body).await?;
    let shown = (&post, &uploads);
    let fields = stored_fields(&slug, shown, publication(&post, Some(&old), now), now, id)?;
    sqlx::query_with(
        "UPDATE posts SET slug = $1, title = $2, body = $3, body_html = $4, summary = $5, \
         published = $6, published_at = $7, updated_at = $8, live = $9 WHERE id = $10",
        fields,
    )
    .execute(&mut **tx)
    .await?;
    set_tags(tx, id, &post.tags).await?;
    media_store::set_usage(tx, id, &uploads).await?;
    finish(w, cache, id, before, &lists, Cause::Edit(id)).await
}

pub async fn delete(db: &Db, cache: &PageCache, id: i64) -> Result<Written, WriteError> {
    let mut w = write::begin(db).await?;
    let tx = w.tx();
    let old = by_id(&mut **tx, id).await?.ok_or(WriteError::NotFound)?;
    let lists = lists_of(&tags_of(&mut **tx, id).await?, &[]);
    let before = side(tx, Some(&old), &lists).await?;
    sqlx::query("DELETE FROM post_tags WHERE post_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM posts WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    finish(w, cache, id, before, &lists, Cause::Delete(id)).await
}

/// Puts a scheduled post live if its time has come and nobody did yet.
/// Exactly once across instances: writers take turns, and the one that
/// finds it still waiting flips it with its invalidation in one transaction.
pub async fn go_live(db: &Db, cache: &PageCache, id: i64) -> Result<bool, WriteError> {
    let mut w = write::begin(db).await?;
    let tx = w.tx();
    let Some(post) = by_id(&mut **tx, id).await? else {
        return Ok(false);
    };
    let due = post.is_scheduled() && post.published_at.is_some_and(|at| at <= db::now());
    if !due {
        return Ok(false); // dropping the write rolls it back
    }
    let lists = lists_of(&tags_of(&mut **tx, id).await?, &[]);
    let before = side(tx, Some(&post), &lists).await?;
    sqlx::query("UPDATE posts SET live = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    finish(w, cache, id, before, &lists, Cause::GoLive(id)).await?;
    Ok(true)
}

/// The end of every post write: reads the post back (none after a delete),
/// rewrites its search index row in the same transaction, computes the pages the change made stale from both sides, and commits
/// the write with its invalidation.
async fn finish(
    mut w: Write,
    cache: &PageCache,
    id: i64,
    before: Side,
    lists: &[List],
    cause: Cause,
) -> Result<Written, WriteError> {
    let tx = w.tx();
    let saved = by_id(&mut **tx, id).await?;
    search::index::reindex(tx, id, saved.as_ref()).await?;
    let after = side(tx, saved.as_ref(), lists).await?;
    let stale = Stale::Pages(deps::stale_pages(&change(before, after)));
    let committed = w.commit(cache, cause, stale).await?;
    Ok(Written {
        post: saved,
        committed,
    })
}

/// A new preview link for a post; the old one stops working. Previews are
/// never cached, so nothing is invalidated.
pub async fn regenerate_preview(db: &Db, id: i64) -> Result<(), WriteError> {
    let done = sqlx::query("UPDATE posts SET preview_token = $1 WHERE id = $2")
        .bind(crate::token::random_hex(16))
        .bind(id)
        .execute(db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(WriteError::NotFound);
    }
    Ok(())
}

/// When a post is dated and whether it is live, from the form:
/// a `publish_at` in the future schedules it; one in the past publishes at
/// once, dated then; none publishes now, except that a post already live
/// keeps its date (and so its place). Unpublished posts only record a date.
fn publication(post: &ValidPost, old: Option<&Post>, now: i64) -> (Option<i64>, bool) {
    let old_live_at = old.filter(|o| o.is_live()).and_then(|o| o.published_at);
    match (post.published, post.publish_at) {
        (true, Some(at)) => (Some(at), at <= now),
        (true, None) => (Some(old_live_at.unwrap_or(now)), true),
        (false, Some(at)) => (Some(at), false),
        (false, None) => (old.and_then(|o| o.published_at), false),
    }
}

/// A post's stored fields, `$1` to `$9` of both the insert and the update:
/// slug, title, body, its HTML and summary, published, published_at, the
/// time of the write and live (`publication` gives those two); then `tenth`.
fn stored_fields<T>(
    slug: &str,
    (post, uploads): (&ValidPost, &ShownMap),
    (published_at, live): (Option<i64>, bool),
    now: i64,
    tenth: T,
) -> sqlx::Result<AnyArguments>
where
    T: for<'t> Encode<'t, Any> + Type<Any>,
{
    let mut fields = AnyArguments::default();
    let added = (|| -> Result<(), BoxDynError> {
        fields.add(slug)?;
        fields.add(post.title.as_str())?;
        fields.add(post.body.as_str())?;
        fields.add(markdown::to_safe_html_with(&post.body, uploads))?;
        fields.add(markdown::summary(&post.body, SUMMARY_CHARS))?;
        fields.add(i64::from(post.published))?;
        fields.add(published_at)?;
        fields.add(now)?;
        fields.add(i64::from(live))?;
        fields.add(tenth)?;
        Ok(())
    })();
    added.map_err(sqlx::Error::Encode)?;
    Ok(fields)
}

/// The uploads a post's Markdown points at, as it will show them.
pub(super) async fn uploads_in(tx: &mut Tx, body: &str) -> sqlx::Result<ShownMap> {
    media_store::shown_for(tx, &media::names_in(body)).await
}

/// The site list and every tag list a write may touch.
fn lists_of(new_tags: &[String], old_tags: &[String]) -> Vec<List> {
    let mut lists = vec![List::Site];
    for tag in new_tags.iter().chain(old_tags) {
        let list = List::Tag(tag.clone());
        if !lists.contains(&list) {
            lists.push(list);
        }
    }
    lists
}

/// One side of a write, as `deps` sees it.
struct Side {
    shown: Option<Shown>,
    places: Vec<(List, Option<i64>, i64)>,
    neighbours: Vec<String>,
}

async fn side(tx: &mut Tx, post: Option<&Post>, lists: &[List]) -> sqlx::Result<Side> {
    let tags = match post {
        Some(p) => tags_of(&mut **tx, p.id).await?,
        None => Vec::new(),
    };
    let live_at = post
        .filter(|p| p.is_live())
        .and_then(|p| Some((p.published_at?, p.id)));
    let mut places = Vec::new();
    for list in lists {
        let in_list = match list {
            List::Site => true,
            List::Tag(tag) => tags.contains(tag),
        };
        let position = match live_at.filter(|_| in_list) {
            Some((at, id)) => Some(newer_in(tx, list, at, id).await?),
            None => None,
        };
        let len = match list {
            List::Site => super::published_count(&mut **tx).await?,
            List::Tag(tag) => super::tag_count(&mut **tx, tag).await?,
        };
        places.push((list.clone(), position, len));
    }
    let neighbours = match live_at {
        Some((at, id)) => {
            let (newer, older) = neighbours(tx, at, id).await?;
            newer.into_iter().chain(older).map(|n| n.slug).collect()
        }
        None => Vec::new(),
    };
    Ok(Side {
        shown: post.map(|p| Shown {
            slug: p.slug.clone(),
            title: p.title.clone(),
            live: p.is_live(),
        }),
        places,
        neighbours,
    })
}

/// Where a live post published at `at` sits in `list`: how many live posts
/// come before it, newest first.
pub(super) async fn newer_in(tx: &mut Tx, list: &List, at: i64, id: i64) -> sqlx::Result<i64> {
    match list {
        List::Site => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM posts WHERE live = 1 \
                 AND (published_at > $1 OR (published_at = $1 AND id > $2))",
            )
            .bind(at)
            .bind(id)
            .fetch_one(&mut **tx)
            .await
        }
        List::Tag(tag) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM posts WHERE live = 1 \
                 AND id IN (SELECT post_id FROM post_tags WHERE tag = $3) \
                 AND (published_at > $1 OR (published_at = $1 AND id > $2))",
            )
            .bind(at)
            .bind(id)
            .bind(tag)
            .fetch_one(&mut **tx)
            .await
        }
    }
}

fn change(before: Side, after: Side) -> Change {
    let placements = before
        .places
        .into_iter()
        .zip(after.places)
        .map(|((list, b, len_before), (_, a, len_after))| Placement {
            list,
            before: b,
            after: a,
            len_before,
            len_after,
        })
        .collect();
    Change {
        before: before.shown,
        after: after.shown,
        placements,
        neighbours_before: before.neighbours,
        neighbours_after: after.neighbours,
    }
}

/// Replaces a post's tags (inside a write).
pub(crate) async fn set_tags(tx: &mut Tx, id: i64, tags: &[String]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM post_tags WHERE post_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for tag in tags {
        sqlx::query("INSERT INTO post_tags (post_id, tag) VALUES ($1, $2)")
            .bind(id)
            .bind(tag)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The slug to store: the one given (which must be free), or one derived from
/// the title with a numeric suffix when the plain form is taken.
async fn resolve_slug(
    tx: &mut Tx,
    post: &ValidPost,
    own_id: Option<i64>,
) -> Result<String, WriteError> {
    if let Some(slug) = &post.slug {
        if slug_taken(tx, slug, own_id).await? {
            return Err(WriteError::Invalid(PostErrors::single(
                PostField::Slug,
                format!("The slug \u{201c}{slug}\u{201d} is already used by another post."),
            )));
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

async fn slug_taken(tx: &mut Tx, slug: &str, own_id: Option<i64>) -> sqlx::Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE slug = $1 AND id <> $2")
        .bind(slug)
        .bind(own_id.unwrap_or(-1))
        .fetch_one(&mut **tx)
        .await?;
    Ok(count > 0)
}
