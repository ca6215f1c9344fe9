//! Keeping the search index: one row per live post, rewritten by every
//! post write inside its own transaction, so the index commits (or rolls
//! back) with the change and a search after the write's `303` finds the
//! post as it is now.

use super::{joined_words, plain_text};
use crate::posts::{Post, tags_of};
use sqlx::{Any, AnyConnection, Transaction};

/// Makes the index agree with post `id` as it is in `tx`: its row is
/// removed, then written again if the post (`post`, none after a delete)
/// is live. Tags are read from `tx`, so call this after they are written.
pub async fn reindex(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    post: Option<&Post>,
) -> sqlx::Result<()> {
    let conn: &mut AnyConnection = tx;
    let sqlite = is_sqlite(conn);
    let delete = if sqlite {
        "DELETE FROM post_search WHERE rowid = $1"
    } else {
        "DELETE FROM post_search WHERE post_id = $1"
    };
    sqlx::query(delete).bind(id).execute(&mut *conn).await?;
    let Some(post) = post.filter(|p| p.is_live()) else {
        return Ok(());
    };
    let tags = tags_of(&mut *conn, id).await?.join(" ");
    let body = plain_text(&post.body);
    if sqlite {
        sqlx::query("INSERT INTO post_search (rowid, title, tags, body) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(post.title.as_str())
            .bind(tags)
            .bind(body)
            .execute(&mut *conn)
            .await?;
    } else {
        // The words are split here, as for queries, so PostgreSQL's parser
        // (which reads `example.com` or `a-b` as one token) indexes the same
        // words FTS5 does.
        sqlx::query(
            "INSERT INTO post_search (post_id, body, doc) VALUES ($1, $2, \
             setweight(to_tsvector('simple', $3), 'A') \
             || setweight(to_tsvector('simple', $4), 'B') \
             || setweight(to_tsvector('simple', $5), 'C'))",
        )
        .bind(id)
        .bind(body.replace('<', &super::LESS_THAN.to_string()))
        .bind(joined_words(&post.title))
        .bind(joined_words(&tags))
        .bind(joined_words(&body))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Whether a connection is SQLite's (else PostgreSQL's).
pub fn is_sqlite(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}
