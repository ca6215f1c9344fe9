//! Uploads in the database (both dialects): `media` (one row per distinct
//! upload), `media_variants` (the files served, bytes included) and
//! `media_usage` (which posts show which upload).

use super::process::Processed;
use super::{Shown, ShownMap, Variant, file_name};
use crate::db::{self, Db};
use sqlx::{Any, AnyConnection, Row, Transaction};

type Tx = Transaction<'static, Any>;

/// An upload as the media library lists it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: i64,
    pub format: String,
    pub width: i64,
    pub height: i64,
    /// Of the file as uploaded.
    pub bytes: i64,
    pub alt: String,
    pub created_at: i64,
    /// Every stored file: (name, width, stored bytes), narrowest first.
    pub files: Vec<(String, i64, i64)>,
    /// The posts that show it: (id, title, slug).
    pub used_by: Vec<(i64, String, String)>,
}

impl Upload {
    /// The full-size picture's name (the widest file).
    pub fn name(&self) -> &str {
        self.files.last().map_or("", |(name, _, _)| name)
    }
}

/// The stored upload with this hash, if any: its id and full-size name.
pub async fn by_hash(db: &Db, hash: &str) -> sqlx::Result<Option<(i64, String)>> {
    let row = sqlx::query(
        "SELECT m.id, v.name FROM media m JOIN media_variants v ON v.media_id = m.id \
         WHERE m.hash = $1 ORDER BY v.width DESC LIMIT 1",
    )
    .bind(hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Stores an accepted upload, or finds it when the same bytes are already
/// stored (also when two identical uploads race). Returns its id and the
/// full-size file's name.
pub async fn insert(
    db: &Db,
    hash: &str,
    uploaded_bytes: usize,
    alt: &str,
    processed: &Processed,
) -> sqlx::Result<(i64, String)> {
    let full = file_name(hash, None, processed.format);
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO media (hash, format, width, height, bytes, alt, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING RETURNING id",
    )
    .bind(hash)
    .bind(processed.format.ext())
    .bind(i64::from(processed.width))
    .bind(i64::from(processed.height))
    .bind(uploaded_bytes as i64)
    .bind(alt)
    .bind(db::now())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        drop(tx);
        let existing = by_hash(db, hash).await?;
        return existing.ok_or(sqlx::Error::RowNotFound);
    };
    for file in &processed.files {
        sqlx::query(
            "INSERT INTO media_variants (name, media_id, width, height, content_type, data) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(file_name(hash, file.variant, processed.format))
        .bind(id)
        .bind(i64::from(file.width))
        .bind(i64::from(file.height))
        .bind(processed.format.content_type())
        .bind(file.bytes.as_slice())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok((id, full))
}

/// One stored file: its content type and bytes.
pub async fn file(db: &Db, name: &str) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    let row = sqlx::query("SELECT content_type, data FROM media_variants WHERE name = $1")
        .bind(name)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Every upload, newest first, with its files and the posts that show it.
pub async fn all(db: &Db) -> sqlx::Result<Vec<Upload>> {
    let mut uploads: Vec<Upload> = sqlx::query(
        "SELECT id, format, width, height, bytes, alt, created_at FROM media \
         ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| Upload {
        id: r.get(0),
        format: r.get(1),
        width: r.get(2),
        height: r.get(3),
        bytes: r.get(4),
        alt: r.get(5),
        created_at: r.get(6),
        files: Vec::new(),
        used_by: Vec::new(),
    })
    .collect();
    let files = sqlx::query(
        "SELECT media_id, name, width, LENGTH(data) FROM media_variants ORDER BY width",
    )
    .fetch_all(db)
    .await?;
    let users = sqlx::query(
        "SELECT u.media_id, p.id, p.title, p.slug FROM media_usage u \
         JOIN posts p ON p.id = u.post_id ORDER BY p.id",
    )
    .fetch_all(db)
    .await?;
    for upload in &mut uploads {
        upload.files = files
            .iter()
            .filter(|r| r.get::<i64, _>(0) == upload.id)
            .map(|r| (r.get(1), r.get(2), r.get(3)))
            .collect();
        upload.used_by = users
            .iter()
            .filter(|r| r.get::<i64, _>(0) == upload.id)
            .map(|r| (r.get(1), r.get(2), r.get(3)))
            .collect();
    }
    Ok(uploads)
}

/// The uploads that the files `names` belong to, as posts show them, keyed
/// by each of those names. Unknown names are left out.
pub async fn shown_for(conn: &mut AnyConnection, names: &[String]) -> sqlx::Result<ShownMap> {
    let mut map = ShownMap::new();
    for name in names {
        let Some(row) = sqlx::query(
            "SELECT m.id, m.width, m.height, m.alt FROM media_variants v \
             JOIN media m ON m.id = v.media_id WHERE v.name = $1",
        )
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        else {
            continue;
        };
        let id: i64 = row.get(0);
        let variants = sqlx::query(
            "SELECT name, width FROM media_variants WHERE media_id = $1 ORDER BY width",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| Variant {
            name: r.get(0),
            width: r.get::<i64, _>(1) as u32,
        })
        .collect();
        let shown = Shown {
            id,
            width: row.get::<i64, _>(1) as u32,
            height: row.get::<i64, _>(2) as u32,
            alt: row.get(3),
            variants,
        };
        map.insert(name.clone(), shown);
    }
    Ok(map)
}

/// Records which uploads a post shows (inside the post's write).
pub async fn set_usage(tx: &mut Tx, post_id: i64, shown: &ShownMap) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM media_usage WHERE post_id = $1")
        .bind(post_id)
        .execute(&mut **tx)
        .await?;
    let mut ids: Vec<i64> = shown.values().map(|s| s.id).collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        sqlx::query("INSERT INTO media_usage (post_id, media_id) VALUES ($1, $2)")
            .bind(post_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The posts that show an upload: (id, title), by id.
pub async fn users_of(conn: &mut AnyConnection, media_id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT p.id, p.title FROM media_usage u JOIN posts p ON p.id = u.post_id \
         WHERE u.media_id = $1 ORDER BY p.id",
    )
    .bind(media_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Whether an upload exists.
pub async fn exists(conn: &mut AnyConnection, media_id: i64) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM media WHERE id = $1")
        .bind(media_id)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// The names of an upload's files.
pub async fn names_of(conn: &mut AnyConnection, media_id: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT name FROM media_variants WHERE media_id = $1")
        .bind(media_id)
        .fetch_all(conn)
        .await
}

/// Removes an upload and its files (the caller checked nothing uses it).
pub async fn delete(tx: &mut Tx, media_id: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM media_variants WHERE media_id = $1")
        .bind(media_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM media WHERE id = $1")
        .bind(media_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
