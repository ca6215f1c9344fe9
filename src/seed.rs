//! `folio seed --posts N`: deterministic sample posts of realistic size
//! (headings, lists, a code block, about 600 words), for demos and benchmarks.

use crate::cache::deps::page_count;
use crate::cache::keys::Page;
use crate::cache::{PageCache, outbox};
use crate::config::Settings;
use crate::db::{self, Db};
use crate::markdown;
use crate::posts::{begin_write, count_published};
use crate::startup::cache_config;
use indicatif::{ProgressBar, ProgressStyle};

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
const WORDS: &[&str] = &[
    "the", "cache", "holds", "a", "page", "render", "while", "writers", "remove", "stale",
    "entries", "before", "they", "answer", "readers", "see", "fresh", "content", "every", "time",
    "redis", "keeps", "keys", "short", "lived", "and", "small", "so", "memory", "stays", "bounded",
    "under", "load", "with", "careful", "design",
];
/// Base of the sample timestamps (2026-01-01T00:00:00Z): deterministic output.
const EPOCH: i64 = 1_767_225_600;

pub async fn run(settings: &Settings, count: u32) -> anyhow::Result<()> {
    let db = db::connect(&settings.database_url).await?;
    let start: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE slug LIKE 'sample-post-%'")
            .fetch_one(&db)
            .await?;
    let bar = ProgressBar::new(u64::from(count));
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} posts {elapsed_precise}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut done = 0u32;
    while done < count {
        let batch = (count - done).min(200);
        insert_batch(&db, start + i64::from(done), batch).await?;
        done += batch;
        bar.set_position(u64::from(done));
    }
    bar.finish();

    // Every index page and the feed changed; remove them through the outbox
    // so running instances stop trusting the cache until it is done.
    let mut tx = begin_write(&db).await?;
    let total = count_published(&mut tx).await?;
    let mut pages: Vec<Page> = (1..=page_count(total))
        .map(|n| Page::Index(n as u32))
        .collect();
    pages.push(Page::Feed);
    let id = outbox::record(&mut tx, &pages).await?;
    tx.commit().await?;
    let cache = PageCache::new(cache_config(settings), db.clone())?;
    if !cache.invalidate(id, &pages).await && cache.enabled() {
        eprintln!(
            "Redis did not confirm the invalidation; the server applies it when Redis answers."
        );
    }
    eprintln!("inserted {count} posts ({total} published in all)");
    Ok(())
}

async fn insert_batch(db: &Db, first: i64, n: u32) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for i in first..first + i64::from(n) {
        let (title, body) = sample(i);
        let at = EPOCH + i * 3600;
        sqlx::query(
            "INSERT INTO posts (slug, title, body, body_html, summary, published, published_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $6) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(format!("sample-post-{}", i + 1))
        .bind(&title)
        .bind(&body)
        .bind(markdown::to_safe_html(&body))
        .bind(markdown::summary(&body, 240))
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
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
}
