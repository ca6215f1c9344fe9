//! `folio seed --posts N`: deterministic sample posts of realistic size
//! (headings, lists, a code block, about 600 words), for demos and benchmarks.

use crate::cache::PageCache;
use crate::cache::deps::Stale;
use crate::config::Settings;
use crate::db;
use crate::db_health::DbHealth;
use crate::markdown;
use crate::posts::{self, SUMMARY_CHARS};
use crate::startup::cache_config;
use crate::write::{self, Cause};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::{Any, Transaction};

const TOPICS: &[&str] = &[
    "caching",
    "invalidation",
    "latency",
    "databases",
    "templates",
    "sessions",
    "queues",
    "profiling",
    "migrations",
    "observability",
    "testing",
    "deployment",
];
/// A small fixed set, so a seeded blog has tag pages several pages long.
const TAGS: &[&str] = &["rust", "redis", "web", "databases", "performance", "notes"];
const WORDS: &[&str] = &[
    "the", "cache", "holds", "a", "page", "render", "while", "writers", "remove", "stale",
    "entries", "before", "they", "answer", "readers", "see", "fresh", "content", "every", "time",
    "redis", "keeps", "keys", "short", "lived", "and", "small", "so", "memory", "stays", "bounded",
    "under", "load", "with", "careful", "design",
];
/// Seeded posts are dated an hour apart, the newest now.
const SPACING: i64 = 3600;

pub async fn run(settings: &Settings, count: u32) -> anyhow::Result<()> {
    let db = db::connect(&settings.database_url).await?;
    // No requests here: the database is never marked down.
    let cache = PageCache::new(cache_config(settings), db.clone(), DbHealth::default())?;
    // One write: the whole seed commits, and invalidates, at once.
    let mut w = write::begin(&db).await?;
    let start: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE slug LIKE 'sample-post-%'")
            .fetch_one(&mut **w.tx())
            .await?;
    let bar = ProgressBar::new(u64::from(count));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} posts {elapsed_precise}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Backwards from now, so no seeded post is dated in the future (a date
    // ahead would put it live yet above every post written later).
    let end = start + i64::from(count);
    let newest = db::clock(&mut **w.tx()).await?;
    for i in start..end {
        insert(w.tx(), i, newest - (end - 1 - i) * SPACING).await?;
        bar.inc(1);
    }
    bar.finish();
    let total = posts::published_count(&mut **w.tx()).await?;
    // Every list, feed and neighbour may have shifted: everything is stale.
    let committed = w.commit(&cache, Cause::Seed, Stale::Everything).await?;
    if !committed.confirmed && cache.enabled() {
        eprintln!(
            "Redis did not confirm the invalidation; the server applies it when Redis answers."
        );
    }
    eprintln!("inserted {count} posts ({total} published in all)");
    Ok(())
}

/// Inserts sample post `i`, dated `at`.
async fn insert(tx: &mut Transaction<'static, Any>, i: i64, at: i64) -> anyhow::Result<()> {
    let (title, body) = sample(i);
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO posts (slug, title, body, body_html, summary, published, published_at, \
         created_at, updated_at, live, preview_token) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $6, 1, $7) ON CONFLICT (slug) DO NOTHING RETURNING id",
    )
    .bind(format!("sample-post-{}", i + 1))
    .bind(&title)
    .bind(&body)
    .bind(markdown::to_safe_html(&body))
    .bind(markdown::summary(&body, SUMMARY_CHARS))
    .bind(at)
    .bind(crate::token::random_hex(16))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(id) = id {
        let tags: Vec<String> = sample_tags(i).iter().map(|t| t.to_string()).collect();
        posts::set_tags(tx, id, &tags).await?;
        let post = posts::by_id(&mut **tx, id).await?;
        crate::search::index::reindex(tx, id, post.as_ref()).await?;
    }
    Ok(())
}

/// Post `i`'s tags: two of the fixed set.
pub fn sample_tags(i: i64) -> [&'static str; 2] {
    let n = TAGS.len() as i64;
    let offset = 1 + (i / n) % (n - 1); // never a multiple of n
    [TAGS[(i % n) as usize], TAGS[((i + offset) % n) as usize]]
}

/// Post `i`: the same title and body on every run.
pub fn sample(i: i64) -> (String, String) {
    let topic = TOPICS[(i as usize) % TOPICS.len()];
    let title = format!("Sample post {}: notes on {topic}", i + 1);
    let mut state = (i as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut word = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        WORDS[(state >> 33) as usize % WORDS.len()]
    };
    let mut paragraph = |words: usize| {
        let mut p: Vec<&str> = (0..words).map(|_| word()).collect();
        let first = p[0];
        let capital = first[..1].to_uppercase() + &first[1..];
        p[0] = "";
        format!("{capital}{}.", p.join(" "))
    };
    let mut body = String::new();
    body.push_str(&paragraph(70));
    body.push_str(&format!("\n\n## Why {topic} matters\n\n"));
    body.push_str(&paragraph(90));
    body.push_str("\n\n");
    body.push_str(&paragraph(80));
    body.push_str("\n\n## A checklist\n\n");
    for _ in 0..5 {
        body.push_str(&format!("- {}\n", paragraph(9)));
    }
    body.push_str("\n## In code\n\n```rust\nfn main() {\n    let hits = 41;\n    let misses = 1;\n    println!(\"hit ratio: {}\", hits as f64 / (hits + misses) as f64);\n}\n```\n\n");
    body.push_str(&paragraph(100));
    body.push_str(
        "\n\n### Further steps\n\n1. Measure first.\n2. Change one thing.\n3. Measure again.\n\n",
    );
    body.push_str(&paragraph(110));
    body.push_str("\n\n");
    body.push_str(&paragraph(80));
    body.push('\n');
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_deterministic_and_realistic() {
        assert_eq!(sample(7), sample(7));
        assert_ne!(sample(7).1, sample(8).1);
        let (_, body) = sample(3);
        let words = body.split_whitespace().count();
        assert!((550..=700).contains(&words), "{words} words");
        assert!(body.contains("## ") && body.contains("- ") && body.contains("```rust"));
    }

    #[test]
    fn sample_tags_are_two_different_ones() {
        for i in 0..50 {
            let [a, b] = sample_tags(i);
            assert_ne!(a, b, "{i}");
        }
    }
}
