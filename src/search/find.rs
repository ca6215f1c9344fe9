//! Searching: one page of results, best first, with a snippet each.
//!
//! The index holds only live posts (see `index`), so no query here needs
//! the posts table to filter. Ranking: FTS5's `rank` (bm25 with the title
//! weighted 10, tags 5, the body 1, set in the migration) on SQLite;
//! `ts_rank` with the title (A) at 1.0, tags (B) 0.4 and the body (C) 0.1
//! on PostgreSQL; ties newest first by id. Snippets are made for the ten
//! posts of the page only, one statement each, since computing them in the
//! ranking query would compute one per match.

use super::index::is_sqlite;
use super::{MARK_END, MARK_START, Query, snippet_html};
use crate::db::Db;
use crate::listing::PAGE_SIZE;
use sqlx::AnyConnection;

/// One result: the post and its snippet as HTML (escaped, with `<mark>`s).
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// When it was published (unix seconds).
    pub published_at: i64,
    pub snippet_html: String,
}

/// A page of results and how many there are in all.
#[derive(Debug, Clone)]
pub struct Found {
    pub total: i64,
    pub hits: Vec<Hit>,
}

/// The words around the matches that a snippet shows, at most.
const SNIPPET_WORDS: i64 = 24;

/// Page `page` (1-based) of the posts matching `query`. An empty query
/// finds nothing; a page past the last is empty (the caller answers `404`).
pub async fn search(db: &Db, query: &Query, page: u32) -> sqlx::Result<Found> {
    if query.is_empty() {
        return Ok(Found {
            total: 0,
            hits: Vec::new(),
        });
    }
    let mut conn = db.acquire().await?;
    let conn: &mut AnyConnection = &mut conn;
    let sqlite = is_sqlite(conn);
    let text = if sqlite { query.fts5() } else { query.plain() };
    let count = if sqlite {
        "SELECT COUNT(*) FROM post_search WHERE post_search MATCH $1"
    } else {
        "SELECT COUNT(*) FROM post_search WHERE doc @@ plainto_tsquery('simple', $1)"
    };
    let total: i64 = sqlx::query_scalar(count)
        .bind(text.as_str())
        .fetch_one(&mut *conn)
        .await?;
    let offset = (i64::from(page) - 1) * PAGE_SIZE;
    if total <= offset {
        return Ok(Found {
            total,
            hits: Vec::new(),
        });
    }
    let ranked = if sqlite {
        "SELECT rowid FROM post_search WHERE post_search MATCH $1 \
         ORDER BY rank, rowid DESC LIMIT $2 OFFSET $3"
    } else {
        "SELECT post_id FROM post_search, plainto_tsquery('simple', $1) q WHERE doc @@ q \
         ORDER BY ts_rank('{0.1, 0.1, 0.4, 1.0}', doc, q) DESC, post_id DESC LIMIT $2 OFFSET $3"
    };
    let ids: Vec<i64> = sqlx::query_scalar(ranked)
        .bind(text.as_str())
        .bind(PAGE_SIZE)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
    let mut hits = Vec::with_capacity(ids.len());
    for id in ids {
        // Gone since the ranking (a write in between): left out.
        if let Some(hit) = hit(conn, sqlite, &text, id).await? {
            hits.push(hit);
        }
    }
    Ok(Found { total, hits })
}

/// Post `id` with its snippet for `text`.
async fn hit(
    conn: &mut AnyConnection,
    sqlite: bool,
    text: &str,
    id: i64,
) -> sqlx::Result<Option<Hit>> {
    let sql = if sqlite {
        "SELECT p.slug, p.title, COALESCE(p.published_at, p.created_at), \
         snippet(post_search, 2, $3, $4, '…', $5) \
         FROM post_search JOIN posts p ON p.id = post_search.rowid \
         WHERE post_search MATCH $1 AND post_search.rowid = $2"
    } else {
        // ts_headline's options are a string; the marks are single
        // characters that need no quoting there.
        "SELECT p.slug, p.title, COALESCE(p.published_at, p.created_at), \
         ts_headline('simple', s.body, plainto_tsquery('simple', $1), \
           'StartSel=' || $3 || ', StopSel=' || $4 || ', MaxWords=' || $5 \
           || ', MinWords=10, ShortWord=0, MaxFragments=2, FragmentDelimiter=\" … \"') \
         FROM post_search s JOIN posts p ON p.id = s.post_id WHERE s.post_id = $2"
    };
    let row: Option<(String, String, i64, String)> = sqlx::query_as(sql)
        .bind(text)
        .bind(id)
        .bind(MARK_START.to_string())
        .bind(MARK_END.to_string())
        .bind(SNIPPET_WORDS)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|(slug, title, published_at, snippet)| Hit {
        id,
        slug,
        title,
        published_at,
        snippet_html: snippet_html(snippet.trim()),
    }))
}
