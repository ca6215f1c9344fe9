//! The page cache: whole anonymous renders in Redis under `{prefix}view/{path}`.
//!
//! The rules, in one place:
//! - cacheable pages are the `keys::Page` variants, with TTLs from config;
//! - only anonymous `GET`/`HEAD` requests read or fill it; a logged-in admin
//!   always gets a fresh render (`BYPASS`) that is never stored;
//! - only `200` renders are stored, and renders never hold anything personal;
//! - every write removes the pages `deps` names, through the `outbox`.
//!
//! Never stale: a miss returns the current generation; a fill is stored only
//! if that generation is unchanged (`scripts::FILL`), and every invalidation
//! replaces it atomically with its deletes. A reader that rendered old rows
//! therefore cannot put them back. While an invalidation is unconfirmed
//! (Redis down, slow, paused) or any is pending in the database, the cache is
//! not used at all: pages render from the database with `X-Cache: BYPASS`,
//! and the reconciler turns the cache back on once Redis has applied them.
//!
//! Fast: a hit is served from a copy in process while the instance holds a
//! lease on the current generation (see `local`), with no Redis round trip;
//! otherwise one round trip that sends the copy's header and gets back a few
//! bytes when the page is unchanged.

pub mod counts;
pub mod deps;
pub mod keys;
pub mod local;
pub mod outbox;
pub mod scripts;
pub mod stats;

use crate::db::Db;
use crate::error::AppError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use counts::{Counts, Outcome};
use keys::{Page, Route};
use local::{LEASE, LocalCopies, UnderLease};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// How often each instance looks for pending invalidations, sends its counts
/// and renews its lease: several times per lease.
pub const RECONCILE_EVERY: Duration = Duration::from_millis(30);
/// How long per-minute counts are kept, for the hit-ratio chart.
const MINUTE_TTL_SECS: u64 = 2 * 60 * 60;
/// `F1 <16 hex digits of the body hash> <kind>\n`
const HEADER_LEN: usize = 22;

pub const X_CACHE: &str = "x-cache";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
    Bypass,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "HIT",
            CacheStatus::Miss => "MISS",
            CacheStatus::Bypass => "BYPASS",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Html,
    Atom,
}

impl ContentKind {
    fn code(self) -> char {
        match self {
            ContentKind::Html => 'h',
            ContentKind::Atom => 'a',
        }
    }

    fn from_code(c: u8) -> Option<Self> {
        match c {
            b'h' => Some(ContentKind::Html),
            b'a' => Some(ContentKind::Atom),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ContentKind::Html => "text/html; charset=utf-8",
            ContentKind::Atom => "application/atom+xml; charset=utf-8",
        }
    }
}

/// A freshly rendered page.
pub struct Rendered {
    pub kind: ContentKind,
    pub body: String,
}

/// A page as stored: a fixed-size header (content hash and kind) then the body.
#[derive(Debug)]
pub struct Entry {
    header: String,
    kind: ContentKind,
    body: Bytes,
}

impl Entry {
    fn new(rendered: Rendered) -> Self {
        let hash = xxhash_rust::xxh3::xxh3_64(rendered.body.as_bytes());
        Entry {
            header: format!("F1 {hash:016x} {}\n", rendered.kind.code()),
            kind: rendered.kind,
            body: Bytes::from(rendered.body),
        }
    }

    fn parse(value: Vec<u8>) -> Option<Self> {
        if value.len() < HEADER_LEN || !value.starts_with(b"F1 ") || value[HEADER_LEN - 1] != b'\n'
        {
            return None;
        }
        let kind = ContentKind::from_code(value[HEADER_LEN - 2])?;
        let header = std::str::from_utf8(&value[..HEADER_LEN]).ok()?.to_string();
        Some(Entry {
            header,
            kind,
            body: Bytes::from(value).slice(HEADER_LEN..),
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut value = Vec::with_capacity(HEADER_LEN + self.body.len());
        value.extend_from_slice(self.header.as_bytes());
        value.extend_from_slice(&self.body);
        value
    }

    /// A strong validator: the hash of the exact bytes served.
    pub fn etag(&self) -> &str {
        &self.header[3..19]
    }
}

enum Lookup {
    Hit(Arc<Entry>),
    Miss { generation: String },
    Unavailable,
}

/// Generations are 16 hex digits; in process they are compared as numbers.
fn parse_generation(token: &str) -> Option<u64> {
    u64::from_str_radix(token, 16).ok()
}

/// What waiters of one render share.
#[derive(Clone)]
enum Flight {
    Page(Arc<Entry>),
    NotFound,
    Failed { database_gone: bool },
}

type FlightKey = (String, String);

pub struct CacheConfig {
    pub prefix: String,
    pub redis_url: Option<String>,
    pub index_ttl: u64,
    pub post_ttl: u64,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    pub render_delay: Duration,
}

/// The page cache of one instance. Cheap to clone.
#[derive(Clone)]
pub struct PageCache(Arc<Inner>);

struct Inner {
    prefix: String,
    instance: String,
    redis: Option<Redis>,
    db: Db,
    index_ttl: u64,
    post_ttl: u64,
    read_timeout: Duration,
    write_timeout: Duration,
    render_delay: Duration,
    /// Whether lookups may use Redis. Cleared by any Redis failure and by a
    /// pending invalidation; set only by the reconciler.
    usable: AtomicBool,
    /// Bumped on every failure, so the reconciler never re-enables the cache
    /// over a failure that happened while it was checking.
    failures: AtomicU64,
    local: LocalCopies,
    flights: Mutex<HashMap<FlightKey, Arc<OnceCell<Flight>>>>,
    counts: Counts,
    renders: AtomicU64,
}

pub(crate) struct Redis {
    pub(crate) conn: ConnectionManager,
    pub(crate) pool: deadpool_redis::Pool,
}

impl PageCache {
    pub fn new(config: CacheConfig, db: Db) -> anyhow::Result<Self> {
        let redis = match &config.redis_url {
            None => None,
            Some(url) => {
                let client = redis::Client::open(url.as_str())?;
                // Lazy: folio starts and serves without Redis and connects when it can.
                let manager_config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(config.read_timeout))
                    .set_response_timeout(Some(config.write_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                let conn = ConnectionManager::new_lazy_with_config(client, manager_config)?;
                let mut pool_config = deadpool_redis::Config::from_url(url.as_str());
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
                Some(Redis { conn, pool })
            }
        };
        Ok(PageCache(Arc::new(Inner {
            prefix: config.prefix,
            instance: format!("{:016x}", rand::random::<u64>()),
            redis,
            db,
            index_ttl: config.index_ttl,
            post_ttl: config.post_ttl,
            read_timeout: config.read_timeout,
            // A write waits at least a lease before answering (see `invalidate`).
            write_timeout: config.write_timeout.max(LEASE),
            render_delay: config.render_delay,
            usable: AtomicBool::new(false),
            failures: AtomicU64::new(0),
            local: LocalCopies::default(),
            flights: Mutex::new(HashMap::new()),
            counts: Counts::default(),
            renders: AtomicU64::new(0),
        })))
    }

    pub fn prefix(&self) -> &str {
        &self.0.prefix
    }

    pub fn enabled(&self) -> bool {
        self.0.redis.is_some()
    }

    /// Whether this instance currently serves from the cache: Redis answered
    /// and a renewal sent less than a lease ago found nothing pending.
    pub fn usable(&self) -> bool {
        self.0.usable.load(Ordering::SeqCst) && self.0.local.clean()
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

    fn ttl(&self, page: &Page) -> u64 {
        match page.route() {
            Route::Post => self.0.post_ttl,
            Route::Index | Route::Feed => self.0.index_ttl,
        }
    }

    pub(crate) fn gen_key(&self) -> String {
        format!("{}gen", self.0.prefix)
    }

    pub(crate) fn stats_key(&self) -> String {
        format!("{}stats", self.0.prefix)
    }

    pub(crate) fn instances_key(&self) -> String {
        format!("{}stats:instances", self.0.prefix)
    }

    pub(crate) fn minute_key(&self, minute: i64) -> String {
        format!("{}stats:minute:{minute}", self.0.prefix)
    }

    fn current_minute_key(&self) -> String {
        self.minute_key(chrono::Utc::now().timestamp() / 60)
    }

    /// Answers a request for a cacheable page: from the cache when it can, else
    /// from `render`. Every answer, errors included, carries `X-Cache`.
    pub async fn serve<F, Fut>(
        &self,
        req: &HttpRequest,
        page: &Page,
        admin: bool,
        render: F,
    ) -> HttpResponse
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Rendered, AppError>>,
    {
        let route = page.route();
        let (status, result) = if admin {
            self.0.counts.add(Outcome::Bypasses, Some(route), 1);
            (CacheStatus::Bypass, self.render_now(render).await)
        } else {
            match self.lookup(page).await {
                Lookup::Hit(entry) => (CacheStatus::Hit, Ok(entry)),
                Lookup::Miss { generation } => (
                    CacheStatus::Miss,
                    self.render_once(page, generation, render).await,
                ),
                Lookup::Unavailable => {
                    self.0.counts.add(Outcome::Bypasses, Some(route), 1);
                    (CacheStatus::Bypass, self.render_now(render).await)
                }
            }
        };
        match result {
            Ok(entry) => respond(req, status, &entry, admin),
            Err(e) => {
                let mut response = actix_web::ResponseError::error_response(&e);
                response.headers_mut().insert(
                    header::HeaderName::from_static(X_CACHE),
                    header::HeaderValue::from_static(status.as_str()),
                );
                response
            }
        }
    }

    async fn render_now<F, Fut>(&self, render: F) -> Result<Arc<Entry>, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Rendered, AppError>>,
    {
        self.0.renders.fetch_add(1, Ordering::Relaxed);
        let rendered = render().await?;
        if !self.0.render_delay.is_zero() {
            tokio::time::sleep(self.0.render_delay).await;
        }
        Ok(Arc::new(Entry::new(rendered)))
    }

    /// Renders a missed page once per instance and generation: concurrent
    /// misses wait for the same render. Joining is keyed by the generation the
    /// miss saw, so a request that starts after a write never receives a
    /// render that began before it.
    async fn render_once<F, Fut>(
        &self,
        page: &Page,
        generation: String,
        render: F,
    ) -> Result<Arc<Entry>, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Rendered, AppError>>,
    {
        let key = page.key(&self.0.prefix);
        let flight_key = (key, generation.clone());
        let cell = {
            let mut flights = self.0.flights.lock().unwrap_or_else(|p| p.into_inner());
            // A render of this generation may have finished between our miss
            // and now (it stores its copy before leaving the map): its result
            // is as fresh as the one we would make.
            let done = parse_generation(&generation)
                .and_then(|g| self.0.local.of_generation(&flight_key.0, g));
            if let Some(entry) = done {
                return Ok(entry);
            }
            flights.entry(flight_key.clone()).or_default().clone()
        };
        let outcome = cell
            .get_or_init(|| async {
                match self.render_now(render).await {
                    Ok(entry) => {
                        self.fill(page, &generation, &entry).await;
                        Flight::Page(entry)
                    }
                    Err(AppError::NotFound) => Flight::NotFound,
                    Err(e) => {
                        let database_gone = matches!(e, AppError::DatabaseUnavailable(_));
                        tracing::error!(error = ?e, "render failed");
                        Flight::Failed { database_gone }
                    }
                }
            })
            .await
            .clone();
        {
            let mut flights = self.0.flights.lock().unwrap_or_else(|p| p.into_inner());
            if flights
                .get(&flight_key)
                .is_some_and(|c| Arc::ptr_eq(c, &cell))
            {
                flights.remove(&flight_key);
            }
        }
        match outcome {
            Flight::Page(entry) => Ok(entry),
            Flight::NotFound => Err(AppError::NotFound),
            Flight::Failed {
                database_gone: true,
            } => Err(AppError::DatabaseUnavailable(sqlx::Error::PoolTimedOut)),
            Flight::Failed {
                database_gone: false,
            } => Err(anyhow::anyhow!("render failed").into()),
        }
    }

    /// A copy in process under a current lease costs nothing; otherwise one
    /// round trip: the lookup script compares the header of the copy when
    /// there is one (so an unchanged page crosses the wire as a few bytes),
    /// returns the page on a hit, and counts the outcome.
    async fn lookup(&self, page: &Page) -> Lookup {
        let Some(redis) = &self.0.redis else {
            return Lookup::Unavailable;
        };
        if !self.0.usable.load(Ordering::SeqCst) {
            return Lookup::Unavailable;
        }
        let key = page.key(&self.0.prefix);
        match self.0.local.under_lease(&key) {
            UnderLease::NoLease => return Lookup::Unavailable,
            UnderLease::Fresh(entry) => {
                self.0.counts.add(Outcome::Hits, Some(page.route()), 1);
                return Lookup::Hit(entry);
            }
            UnderLease::Ask => {}
        }
        let copy = self.0.local.any(&key);
        let mut conn = redis.conn.clone();
        let mut invocation = scripts::LOOKUP.prepare_invoke();
        invocation
            .key(&key)
            .key(self.stats_key())
            .key(self.current_minute_key())
            .key(self.gen_key())
            .arg(copy.as_ref().map_or("", |e| e.header.as_str()))
            .arg(page.route().as_str())
            .arg(HEADER_LEN)
            .arg(MINUTE_TTL_SECS)
            .arg(new_generation());
        let started = Instant::now();
        let reply = tokio::time::timeout(
            self.0.read_timeout,
            invocation.invoke_async::<redis::Value>(&mut conn),
        )
        .await;
        metrics::histogram!("folio_redis_seconds", "op" => "lookup")
            .record(started.elapsed().as_secs_f64());
        let items = match reply {
            Ok(Ok(redis::Value::Array(items))) => items,
            Ok(Ok(other)) => {
                self.fail(&format!("unexpected lookup reply {other:?}"));
                return Lookup::Unavailable;
            }
            Ok(Err(e)) => {
                self.fail(&format!("lookup failed: {e}"));
                return Lookup::Unavailable;
            }
            Err(_) => {
                self.fail("lookup timed out");
                return Lookup::Unavailable;
            }
        };
        let mut items = items.into_iter();
        let (Some(redis::Value::Int(kind)), Some(generation)) = (items.next(), items.next()) else {
            self.fail("malformed lookup reply");
            return Lookup::Unavailable;
        };
        let Ok(generation) = redis::from_redis_value::<String>(generation) else {
            self.fail("malformed generation");
            return Lookup::Unavailable;
        };
        let tag = parse_generation(&generation);
        match (kind, items.next()) {
            (1, _) => match (copy, tag) {
                (Some(entry), Some(tag)) => {
                    self.0.local.put(&key, entry.clone(), tag);
                    Lookup::Hit(entry)
                }
                (Some(entry), None) => Lookup::Hit(entry),
                (None, _) => Lookup::Unavailable,
            },
            (2, Some(redis::Value::BulkString(value))) => match Entry::parse(value) {
                Some(entry) => {
                    let entry = Arc::new(entry);
                    if let Some(tag) = tag {
                        self.0.local.put(&key, entry.clone(), tag);
                    }
                    Lookup::Hit(entry)
                }
                None => {
                    // Not ours (or an older format): render instead.
                    self.0.local.remove(&key);
                    Lookup::Unavailable
                }
            },
            // The copy stays: it may be a render of this very generation that
            // a concurrent miss just stored, which `render_once` will reuse.
            (0, _) => Lookup::Miss { generation },
            _ => {
                self.fail("malformed lookup reply");
                Lookup::Unavailable
            }
        }
    }

    async fn fill(&self, page: &Page, generation: &str, entry: &Arc<Entry>) {
        let Some(redis) = &self.0.redis else { return };
        let key = page.key(&self.0.prefix);
        let mut conn = redis.conn.clone();
        let mut invocation = scripts::FILL.prepare_invoke();
        invocation
            .key(&key)
            .key(self.gen_key())
            .arg(generation)
            .arg(entry.encode())
            .arg(self.ttl(page));
        let reply = tokio::time::timeout(
            self.0.write_timeout,
            invocation.invoke_async::<i64>(&mut conn),
        )
        .await;
        match reply {
            Ok(Ok(1)) => {
                if let Some(tag) = parse_generation(generation) {
                    self.0.local.put(&key, entry.clone(), tag);
                }
            }
            Ok(Ok(_)) => {
                tracing::debug!(page = %page.path(), "fill skipped: a write happened during the render")
            }
            Ok(Err(e)) => self.fail(&format!("fill failed: {e}")),
            Err(_) => self.fail("fill timed out"),
        }
    }

    /// Removes the pages a committed write made stale and confirms its outbox
    /// row, then waits out the lease (see `local`) so that once the caller
    /// answers, no instance serves an old copy. When Redis cannot confirm in
    /// time, this instance stops using the cache at once and the reconciler
    /// finishes the job; the row keeps every other instance off the cache
    /// until then.
    pub async fn invalidate(&self, outbox_id: i64, pages: &[Page]) -> bool {
        let committed = Instant::now();
        for page in pages {
            self.0.local.remove(&page.key(&self.0.prefix));
        }
        let confirmed = if self.0.redis.is_none() {
            self.confirm(outbox_id).await
        } else {
            let paths: Vec<String> = pages.iter().map(Page::path).collect();
            self.apply(&paths.iter().map(String::as_str).collect::<Vec<_>>())
                .await
                && self.confirm(outbox_id).await
        };
        if self.0.redis.is_some() {
            tokio::time::sleep_until((committed + LEASE).into()).await;
        }
        confirmed
    }

    async fn confirm(&self, outbox_id: i64) -> bool {
        match outbox::confirm(&self.0.db, outbox_id).await {
            Ok(()) => true,
            Err(e) => {
                // Harmless: the row is applied again later, which is idempotent.
                tracing::warn!(error = %e, "could not delete a confirmed invalidation");
                false
            }
        }
    }

    /// Runs the invalidation script for `paths`; true once Redis confirmed it.
    async fn apply(&self, paths: &[&str]) -> bool {
        let Some(redis) = &self.0.redis else {
            return false;
        };
        let mut conn = redis.conn.clone();
        let mut invocation = scripts::INVALIDATE.prepare_invoke();
        invocation.key(self.gen_key()).arg(new_generation());
        for path in paths {
            invocation.key(format!("{}view/{path}", self.0.prefix));
        }
        let started = Instant::now();
        let reply = tokio::time::timeout(
            self.0.write_timeout,
            invocation.invoke_async::<i64>(&mut conn),
        )
        .await;
        metrics::histogram!("folio_redis_seconds", "op" => "invalidate")
            .record(started.elapsed().as_secs_f64());
        match reply {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                self.fail(&format!("invalidation failed: {e}"));
                false
            }
            Err(_) => {
                self.fail("invalidation timed out");
                false
            }
        }
    }

    /// Records a Redis failure: stop using the cache until the reconciler has
    /// seen Redis accept writes again and every pending invalidation applied.
    fn fail(&self, what: &str) {
        let was_usable = self.0.usable.swap(false, Ordering::SeqCst);
        self.0.local.revoke();
        self.0.failures.fetch_add(1, Ordering::SeqCst);
        self.0.counts.add(Outcome::Errors, None, 1);
        metrics::counter!("folio_redis_errors_total").increment(1);
        if was_usable {
            tracing::warn!(%what, "redis failed; serving from the database until it recovers");
        } else {
            tracing::debug!(%what, "redis failed again");
        }
    }

    /// One pass of the reconciler: apply pending invalidations, send the
    /// counts made in process, renew the lease, and turn the cache back on
    /// when all is confirmed.
    pub async fn reconcile(&self) {
        if self.0.redis.is_none() {
            return;
        }
        let sent_at = Instant::now();
        let seen = self.0.failures.load(Ordering::SeqCst);
        let pending = match outbox::pending(&self.0.db, 100).await {
            Ok(rows) => rows,
            Err(e) => {
                // Without the outbox nothing can be trusted.
                self.0.usable.store(false, Ordering::SeqCst);
                self.0.local.revoke();
                tracing::warn!(error = %e, "cannot read pending invalidations");
                return;
            }
        };
        if !pending.is_empty() {
            self.0.usable.store(false, Ordering::SeqCst);
            self.0.local.revoke();
        }
        let Some(generation) = self.flush_counts().await else {
            return;
        };
        for row in &pending {
            if !self.apply(&row.paths().collect::<Vec<_>>()).await {
                return;
            }
            self.confirm(row.id).await;
        }
        if !pending.is_empty() || self.0.failures.load(Ordering::SeqCst) != seen {
            // Decide on the next pass, with a generation read after these.
            return;
        }
        if !self.0.usable.swap(true, Ordering::SeqCst) {
            tracing::info!("redis cache in use");
        }
        self.0
            .local
            .renew(generation.as_deref().and_then(parse_generation), sent_at);
    }

    /// Runs `reconcile` forever in the background.
    pub fn spawn_reconciler(&self) -> tokio::task::JoinHandle<()> {
        let cache = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RECONCILE_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                cache.reconcile().await;
            }
        })
    }

    /// Sends the counts made in process and stamps this instance's flush;
    /// returns the current generation (`Some(None)` when there is none yet),
    /// or `None` when Redis did not take the write.
    pub(crate) async fn flush_counts(&self) -> Option<Option<String>> {
        let redis = self.0.redis.as_ref()?;
        let taken = self.0.counts.take();
        let mut invocation = scripts::FLUSH.prepare_invoke();
        invocation
            .key(self.stats_key())
            .key(self.current_minute_key())
            .key(self.instances_key())
            .key(self.gen_key())
            .arg(&self.0.instance)
            .arg(MINUTE_TTL_SECS);
        for (outcome, subject, n) in &taken {
            if *subject != "redis" {
                invocation
                    .arg(format!("{}:{subject}", outcome.as_str()))
                    .arg(*n);
            }
            invocation.arg(outcome.as_str()).arg(*n);
        }
        let mut conn = redis.conn.clone();
        match tokio::time::timeout(
            self.0.write_timeout,
            invocation.invoke_async::<String>(&mut conn),
        )
        .await
        {
            Ok(Ok(generation)) => Some((!generation.is_empty()).then_some(generation)),
            _ => {
                self.0.counts.restore(&taken);
                self.0.failures.fetch_add(1, Ordering::SeqCst);
                self.0.usable.store(false, Ordering::SeqCst);
                self.0.local.revoke();
                None
            }
        }
    }

    pub(crate) fn unsent(&self, outcome: Outcome, subject: Option<&str>) -> u64 {
        self.0.counts.peek(outcome, subject)
    }

    pub(crate) fn clear_local(&self) {
        self.0.local.clear();
    }
}

pub(crate) fn new_generation() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The response for a page: `304` when the client holds these exact bytes.
fn respond(req: &HttpRequest, status: CacheStatus, entry: &Entry, admin: bool) -> HttpResponse {
    let etag = format!("\"{}\"", entry.etag());
    let not_modified = !admin && if_none_match(req, &etag);
    let mut builder = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::build(StatusCode::OK)
    };
    // Visitors revalidate every time (cheap with the ETag); an admin's pages
    // hold a CSRF token and are never stored by a browser or proxy.
    let cache_control = if admin {
        "private, no-store"
    } else {
        "no-cache"
    };
    builder
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::VARY, "Cookie"))
        .insert_header((header::HeaderName::from_static(X_CACHE), status.as_str()));
    if not_modified {
        return builder.finish();
    }
    builder
        .insert_header((header::CONTENT_TYPE, entry.kind.content_type()))
        .body(entry.body.clone())
}

fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}
