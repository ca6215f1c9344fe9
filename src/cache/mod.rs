//! The page cache: whole anonymous renders in Redis under `{prefix}view/{path}`.
//!
//! Where things are:
//! - `policy`: what is cacheable, for whom, for how long;
//! - `keys`: every Redis key name and the pages behind view keys;
//! - `deps`: which pages a write makes stale (pure);
//! - `entry`: the stored format; `respond`: the HTTP answer;
//! - `lookup`: reading and filling, with single-flight (`flight`);
//! - `invalidate`: applying a write's invalidation, re-warming, the log;
//! - `reconcile`: the background loop that applies pending invalidations,
//!   sends counts, renews the lease and resets a Redis that forgot;
//! - `health`: whether this instance uses Redis right now; `error`: why a
//!   Redis operation failed;
//! - `local`: copies in process served under a lease; `outbox`: the
//!   invalidations stored with their writes; `stats`: the debug panel.
//!
//! Never stale: a miss returns the current generation; a fill is stored only
//! if that generation is unchanged (`scripts::FILL`), and every invalidation
//! replaces it atomically with its deletes. A reader that rendered old rows
//! therefore cannot put them back. While an invalidation is unconfirmed
//! (Redis down, slow, paused) or any is pending in the database, the cache is
//! not used at all: pages render from the database with `X-Cache: BYPASS`,
//! and the reconciler turns the cache back on once Redis has applied them.
//! Redis that went back in time is noticed by comparing the sequence number
//! of the last write it applied with the database's.

pub mod counts;
pub mod deps;
pub mod edge;
pub mod entry;
pub mod error;
mod flight;
pub mod health;
pub mod invalidate;
pub mod keys;
pub mod local;
pub mod log;
mod lookup;
pub mod outbox;
pub mod policy;
mod reconcile;
pub mod respond;
pub mod scripts;
pub mod stats;

use crate::db::Db;
use crate::db_health::{self, DbHealth};
use crate::error::AppError;
use actix_web::{HttpRequest, HttpResponse};
use counts::{Counts, Outcome};
use edge::{Edge, EdgeMark};
use entry::{Entry, Rendered};
use flight::Flights;
use futures_util::future::BoxFuture;
use health::Health;
use keys::{Keys, Page};
use local::{LocalCopies, UnderLease};
use lookup::Lookup;
use policy::{Audience, Ttls};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use respond::CacheStatus;
use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use reconcile::RECONCILE_EVERY;

/// Renders any cacheable page as an anonymous visitor sees it; the cache
/// calls it to re-warm pages a write made stale.
pub trait Renderer: Send + Sync + 'static {
    fn render<'a>(&'a self, page: &'a Page) -> BoxFuture<'a, Result<Rendered, AppError>>;
}

pub struct CacheConfig {
    pub prefix: String,
    pub redis_url: Option<String>,
    pub ttls: Ttls,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    pub render_delay: Duration,
    pub rewarm: bool,
    /// `FOLIO_EDGE_PURGE` endpoints.
    pub edge: Vec<String>,
}

/// The page cache of one instance. Cheap to clone.
#[derive(Clone)]
pub struct PageCache(Arc<Inner>);

struct Inner {
    keys: Keys,
    instance: String,
    redis: Option<Redis>,
    db: Db,
    ttls: Ttls,
    read_timeout: Duration,
    write_timeout: Duration,
    render_delay: Duration,
    rewarm: bool,
    edge: Edge,
    health: Health,
    local: LocalCopies,
    flights: Flights,
    counts: Counts,
    renders: AtomicU64,
    renderer: OnceLock<Arc<dyn Renderer>>,
    /// The newest write sequence this instance saw Redis hold: a lookup that
    /// finds Redis behind it refuses to serve (Redis went back in time).
    seen_seq: AtomicI64,
    /// Whether the database is marked down: then nothing waits on the pool.
    db_health: DbHealth,
    passes: reconcile::Passes,
}

pub(crate) struct Redis {
    pub(crate) conn: ConnectionManager,
    pub(crate) pool: deadpool_redis::Pool,
}

impl PageCache {
    pub fn new(config: CacheConfig, db: Db, db_health: DbHealth) -> anyhow::Result<Self> {
        let redis = match &config.redis_url {
            None => None,
            Some(url) => Some(connect(url, &config)?),
        };
        Ok(PageCache(Arc::new(Inner {
            keys: Keys::new(&config.prefix),
            instance: format!("{:016x}", rand::random::<u64>()),
            redis,
            db,
            ttls: config.ttls,
            read_timeout: config.read_timeout,
            // A write waits at least a lease before answering (see `invalidate`).
            write_timeout: config.write_timeout.max(local::LEASE),
            render_delay: config.render_delay,
            rewarm: config.rewarm,
            edge: Edge::new(config.edge, &config.prefix),
            health: Health::default(),
            local: LocalCopies::default(),
            flights: Flights::default(),
            counts: Counts::default(),
            renders: AtomicU64::new(0),
            renderer: OnceLock::new(),
            seen_seq: AtomicI64::new(0),
            db_health,
            passes: reconcile::Passes::default(),
        })))
    }

    /// Gives the cache the means to re-render pages (set once at start).
    pub fn set_renderer(&self, renderer: Arc<dyn Renderer>) {
        let _ = self.0.renderer.set(renderer);
    }

    pub fn keys(&self) -> &Keys {
        &self.0.keys
    }

    pub fn prefix(&self) -> &str {
        self.0.keys.prefix()
    }

    pub fn enabled(&self) -> bool {
        self.0.redis.is_some()
    }

    pub fn ttls(&self) -> Ttls {
        self.0.ttls
    }

    pub fn edge(&self) -> &Edge {
        &self.0.edge
    }

    pub(crate) fn db(&self) -> &Db {
        &self.0.db
    }

    /// Whether this instance currently serves from the cache: Redis answered
    /// and a renewal sent less than a lease ago found nothing pending.
    pub fn usable(&self) -> bool {
        self.0.health.in_use() && self.0.local.clean()
    }

    pub(crate) fn redis(&self) -> Option<&Redis> {
        self.0.redis.as_ref()
    }

    pub(crate) fn read_timeout(&self) -> Duration {
        self.0.read_timeout
    }

    /// Renders this instance has made of cacheable pages (for tests of single-flight).
    pub fn render_count(&self) -> u64 {
        self.0.renders.load(Ordering::SeqCst)
    }

    /// Answers a request for a cacheable page: from the cache when it can, else
    /// from `render`. Every answer, errors included, carries `X-Cache`.
    pub async fn serve<F, Fut>(
        &self,
        req: &HttpRequest,
        page: &Page,
        audience: Audience,
        render: F,
    ) -> HttpResponse
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Rendered, AppError>>,
    {
        let route = Some(page.route());
        // `current`: known to be no older than any write answered so far,
        // which is what the edge may store (see `edge`).
        let (status, result, current) = match audience {
            Audience::Admin => {
                self.0.counts.add(Outcome::Bypasses, route, 1);
                (
                    CacheStatus::Bypass,
                    self.render_now(render, None).await,
                    false,
                )
            }
            Audience::Visitor => match self.lookup(page).await {
                Lookup::Hit(entry) => (CacheStatus::Hit, Ok(entry), true),
                Lookup::Miss { generation, epoch } => {
                    match self.render_once(page, generation, epoch, render).await {
                        Ok((entry, stored)) => (CacheStatus::Miss, Ok(entry), stored),
                        Err(e) => (CacheStatus::Miss, Err(e), false),
                    }
                }
                Lookup::Unavailable => {
                    self.0.counts.add(Outcome::Bypasses, route, 1);
                    let before = self.write_seq().await;
                    let result = self.render_now(render, Some(0)).await;
                    let current = before.is_some() && before == self.write_seq().await;
                    (CacheStatus::Bypass, result, current)
                }
            },
        };
        let edge = self.edge_mark(page, audience, current);
        match result {
            Ok(entry) => respond::page(req, status, &entry, audience, &edge),
            Err(e) => respond::error(&e, status),
        }
    }

    /// A visitor's hit on a copy in process under the lease, answered
    /// exactly as `serve` answers it; `None` when the page needs more than
    /// that (a Redis lookup, a render, no lease). It lets the hit path skip
    /// the routing and middleware that only other requests need.
    pub fn local_hit(&self, req: &HttpRequest, page: &Page) -> Option<HttpResponse> {
        if self.0.redis.is_none() || !self.0.health.in_use() {
            return None;
        }
        let UnderLease::Fresh(entry) = self.0.local.under_lease(page) else {
            return None;
        };
        self.0.counts.add(Outcome::Hits, Some(page.route()), 1);
        let edge = self.edge_mark(page, Audience::Visitor, true);
        Some(respond::page(
            req,
            CacheStatus::Hit,
            &entry,
            Audience::Visitor,
            &edge,
        ))
    }

    /// What an HTTP cache in front may do with this answer: keep it only
    /// when it went to a visitor and is `current` (see `edge`).
    fn edge_mark(&self, page: &Page, audience: Audience, current: bool) -> EdgeMark {
        match (self.0.edge.enabled(), audience, current) {
            (false, _, _) => EdgeMark::Off,
            (true, Audience::Visitor, true) => EdgeMark::Public {
                ttl: self.0.ttls.secs(page),
                keys: self.0.edge.page_keys(page),
            },
            (true, _, _) => EdgeMark::NoStore,
        }
    }

    /// The database's write sequence, when an edge needs to know whether a
    /// render saw a write commit under it (`None` without an edge or database).
    /// Fails fast while the database is marked down, and marks it down when
    /// this is the request that finds it gone.
    async fn write_seq(&self) -> Option<i64> {
        if !self.0.edge.enabled() || self.0.db_health.is_down() {
            return None;
        }
        match outbox::write_seq(&self.0.db).await {
            Ok(seq) => Some(seq),
            Err(e) => {
                if db_health::is_connection_failure(&e) {
                    self.0.db_health.mark_down();
                }
                None
            }
        }
    }

    /// `epoch`: the site version of a page that may be stored, compressed
    /// now; `None` for an admin's render, never stored and sent plain.
    async fn render_now<F, Fut>(
        &self,
        render: F,
        epoch: Option<u64>,
    ) -> Result<Arc<Entry>, Arc<AppError>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Rendered, AppError>>,
    {
        self.0.renders.fetch_add(1, Ordering::Relaxed);
        let rendered = render().await.map_err(Arc::new)?;
        if !self.0.render_delay.is_zero() {
            tokio::time::sleep(self.0.render_delay).await;
        }
        Ok(Arc::new(match epoch {
            Some(epoch) => Entry::new(rendered, epoch),
            None => Entry::plain(rendered),
        }))
    }

    /// Records a Redis failure: stop using the cache until the reconciler has
    /// seen Redis accept writes again and every pending invalidation applied.
    /// `what` is the cause to log, a `CacheError` or its description.
    fn fail(&self, what: &(impl std::fmt::Display + ?Sized)) {
        let was_in_use = self.0.health.fail();
        self.0.local.revoke();
        self.0.counts.add(Outcome::Errors, None, 1);
        metrics::counter!("folio_redis_errors_total").increment(1);
        if was_in_use {
            tracing::warn!(%what, "redis failed; serving from the database until it recovers");
        } else {
            tracing::debug!(%what, "redis failed again");
        }
    }

    pub(crate) fn unsent(&self, outcome: Outcome, subject: Option<&str>) -> u64 {
        self.0.counts.unsent(outcome, subject)
    }

    pub(crate) fn clear_local(&self) {
        self.0.local.clear();
    }
}

fn connect(url: &str, config: &CacheConfig) -> anyhow::Result<Redis> {
    let client = redis::Client::open(url)?;
    // Lazy: folio starts and serves without Redis and connects when it can.
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.read_timeout))
        .set_response_timeout(Some(config.write_timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    let conn = ConnectionManager::new_lazy_with_config(client, manager_config)?;
    let mut pool_config = deadpool_redis::Config::from_url(url);
    pool_config.pool = Some(deadpool_redis::PoolConfig {
        max_size: 4,
        timeouts: deadpool_redis::Timeouts {
            wait: Some(config.write_timeout),
            create: Some(config.write_timeout),
            recycle: Some(config.write_timeout),
        },
        ..Default::default()
    });
    let pool = pool_config.create_pool(Some(deadpool_redis::Runtime::Tokio1))?;
    Ok(Redis { conn, pool })
}

/// A fresh random generation: 16 hex digits.
pub(crate) fn new_generation() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Generations and epochs are 16 hex digits; in process they are numbers.
fn parse_hex(token: &str) -> Option<u64> {
    u64::from_str_radix(token, 16).ok()
}
