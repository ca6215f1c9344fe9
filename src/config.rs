//! Settings. Every setting is a flag and an environment variable (optionally
//! from `.env`), with the defaults of the product contract; the commands that
//! take them are in `cli`.

use clap::{Args, Parser};
use secrecy::SecretString;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Listen address.
    #[arg(
        long = "bind",
        env = "FOLIO_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,
    /// `sqlite://…` or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://folio.db?mode=rwc",
        global = true
    )]
    pub database_url: String,
    /// Redis for the page cache; `off` disables caching.
    #[arg(
        long,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        global = true
    )]
    pub redis_url: String,
    /// Prefix of every Redis key folio writes.
    #[arg(
        long,
        env = "FOLIO_CACHE_PREFIX",
        default_value = "folio:",
        global = true
    )]
    pub cache_prefix: String,
    /// Public origin for absolute links [default: http://<FOLIO_BIND>].
    #[arg(long, env = "FOLIO_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// Secret of at least 64 characters for session cookies [default: generated once, kept in the database].
    #[arg(long, env = "FOLIO_SESSION_KEY", hide_env_values = true, global = true)]
    pub session_key: Option<SecretString>,
    /// Admin created at start if it does not exist.
    #[arg(long, env = "FOLIO_ADMIN_USERNAME", global = true)]
    pub admin_username: Option<String>,
    /// Password of that admin.
    #[arg(
        long,
        env = "FOLIO_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<SecretString>,
    /// Cache lifetime of list pages, /tags and the feeds, in seconds.
    #[arg(long, env = "FOLIO_INDEX_TTL", default_value_t = 1200, global = true)]
    pub index_ttl: u64,
    /// Cache lifetime of post pages, in seconds.
    #[arg(long, env = "FOLIO_POST_TTL", default_value_t = 1800, global = true)]
    pub post_ttl: u64,
    /// Cache lifetime of /about and the sitemap, in seconds.
    #[arg(long, env = "FOLIO_PAGE_TTL", default_value_t = 7200, global = true)]
    pub page_ttl: u64,
    /// Re-render cached pages a write made stale (`on` or `off`).
    #[arg(long, env = "FOLIO_REWARM", default_value = "on", global = true)]
    pub rewarm: String,
    /// Longest a page request waits for Redis before rendering from the database, in milliseconds.
    #[arg(
        long,
        env = "FOLIO_REDIS_TIMEOUT_MS",
        default_value_t = 250,
        global = true
    )]
    pub redis_timeout_ms: u64,
    /// Longest a write waits for Redis to confirm its invalidation, in milliseconds.
    #[arg(
        long,
        env = "FOLIO_INVALIDATION_TIMEOUT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub invalidation_timeout_ms: u64,
    /// Artificial pause between a cacheable page's database read and its
    /// storing, in milliseconds: widens race windows for stress tests. Keep 0.
    #[arg(
        long,
        env = "FOLIO_RENDER_DELAY_MS",
        default_value_t = 0,
        global = true
    )]
    pub render_delay_ms: u64,
    /// HTTP caches in front of folio to purge, comma-separated (e.g. `http://127.0.0.1:6081`).
    #[arg(long, env = "FOLIO_EDGE_PURGE", global = true)]
    pub edge_purge: Option<String>,
    /// Searches a second each client address may make (twice that in a
    /// burst); 0 turns the limit off.
    #[arg(long, env = "FOLIO_SEARCH_RATE", default_value_t = 10, global = true)]
    pub search_rate: u32,
    /// Worker threads of the HTTP server [default: one per core].
    #[arg(long, env = "FOLIO_WORKERS", global = true)]
    pub workers: Option<usize>,
}

impl Settings {
    /// The public origin, without a trailing slash.
    pub fn base_url(&self) -> String {
        let url = match &self.base_url {
            Some(url) => url.clone(),
            None => format!("http://{}", self.bind),
        };
        url.trim_end_matches('/').to_string()
    }

    pub fn secure_cookies(&self) -> bool {
        self.base_url().starts_with("https://")
    }

    pub fn rewarm_enabled(&self) -> bool {
        !matches!(
            self.rewarm.trim().to_ascii_lowercase().as_str(),
            "off" | "false" | "0" | "no"
        )
    }

    pub fn redis_enabled(&self) -> bool {
        !self.redis_url.eq_ignore_ascii_case("off")
    }

    /// The edge purge endpoints, without trailing slashes.
    pub fn edge_endpoints(&self) -> Vec<String> {
        self.edge_purge
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|e| e.trim().trim_end_matches('/').to_string())
            .filter(|e| !e.is_empty())
            .collect()
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms.max(1))
    }

    pub fn invalidation_timeout(&self) -> Duration {
        Duration::from_millis(self.invalidation_timeout_ms.max(1))
    }

    /// Settings as the defaults give them, for tests and tools that build their own.
    pub fn from_env_and_defaults() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            settings: Settings,
        }
        Only::parse_from(["folio"]).settings
    }
}
