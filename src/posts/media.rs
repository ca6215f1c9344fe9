//! Writes of uploads that posts show, each a `crate::write` like a post
//! write: a new alt text re-renders every post that shows the upload and
//! removes the pages that show those bodies; an upload is removed only when
//! no post shows it (in the write turn, so no post save races the check).

use super::writes::{newer_in, uploads_in};
use super::{by_id, tags_of};
use crate::cache::PageCache;
use crate::cache::deps::{self, List, Stale};
use crate::cache::keys::Page;
use crate::db::Db;
use crate::markdown;
use crate::media::store as media_store;
use crate::write::{self, Cause, Committed};
use sqlx::{Any, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum MediaWriteError {
    #[error("upload not found")]
    NotFound,
    /// The posts that show it: (id, title).
    #[error("the upload is shown by posts")]
    InUse(Vec<(i64, String)>),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Longest alt text kept, in characters.
pub const ALT_MAX: usize = 500;

/// Gives an upload a new alt text, in every post that shows it.
pub async fn set_media_alt(
    db: &Db,
    cache: &PageCache,
    media_id: i64,
    alt: &str,
) -> Result<Committed, MediaWriteError> {
    let mut w = write::begin(db).await?;
    let tx = w.tx();
    if !media_store::exists(tx, media_id).await? {
        return Err(MediaWriteError::NotFound);
    }
    sqlx::query("UPDATE media SET alt = $1 WHERE id = $2")
        .bind(alt)
        .bind(media_id)
        .execute(&mut **tx)
        .await?;
    let mut pages: Vec<Page> = Vec::new();
    for (post_id, _) in media_store::users_of(tx, media_id).await? {
        for page in rerender_body(tx, post_id).await? {
            if !pages.contains(&page) {
                pages.push(page);
            }
        }
    }
    let cause = Cause::MediaAlt(media_id);
    Ok(w.commit(cache, cause, Stale::Pages(pages)).await?)
}

/// Removes an upload no post shows; `InUse` names the posts otherwise.
/// Returns the names of its files.
pub async fn delete_media(
    db: &Db,
    cache: &PageCache,
    media_id: i64,
) -> Result<Vec<String>, MediaWriteError> {
    let mut w = write::begin(db).await?;
    let tx = w.tx();
    if !media_store::exists(tx, media_id).await? {
        return Err(MediaWriteError::NotFound);
    }
    let users = media_store::users_of(tx, media_id).await?;
    if !users.is_empty() {
        return Err(MediaWriteError::InUse(users));
    }
    let names = media_store::names_of(tx, media_id).await?;
    media_store::delete(tx, media_id).await?;
    // No page shows it: nothing to invalidate, but the write turn kept a
    // post save from starting to show it meanwhile.
    let cause = Cause::MediaDelete(media_id);
    w.commit(cache, cause, Stale::Pages(Vec::new())).await?;
    Ok(names)
}

/// Renders a post's body again with its uploads as they are now, and gives
/// the pages that show it.
async fn rerender_body(tx: &mut Transaction<'static, Any>, id: i64) -> sqlx::Result<Vec<Page>> {
    let Some(post) = by_id(&mut **tx, id).await? else {
        return Ok(Vec::new());
    };
    let uploads = uploads_in(tx, &post.body).await?;
    sqlx::query("UPDATE posts SET body_html = $1 WHERE id = $2")
        .bind(markdown::to_safe_html_with(&post.body, &uploads))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let live_at = if post.is_live() {
        post.published_at
    } else {
        None
    };
    let lists =
        std::iter::once(List::Site).chain(tags_of(&mut **tx, id).await?.into_iter().map(List::Tag));
    let mut positions = Vec::new();
    for list in lists {
        let position = match live_at {
            Some(at) => Some(newer_in(tx, &list, at, id).await?),
            None => None,
        };
        positions.push((list, position));
    }
    Ok(deps::body_pages(&post.slug, &positions))
}
