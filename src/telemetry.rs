//! Logs and metrics: a tracing subscriber controlled by `RUST_LOG`, a
//! Prometheus recorder, and a middleware that gives every request an id, a
//! log line and a latency sample labelled by route and cache outcome.

use crate::cache::respond::X_CACHE;
use crate::log_format;
use crate::log_writer::{BatchedStdout, FlushOnDrop};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use metrics::Histogram;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::cell::RefCell;
use std::fmt;
use std::sync::OnceLock;
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

/// Installs the log subscriber; keep the guard alive until exit, it writes
/// out the lines still buffered.
pub fn init_tracing() -> FlushOnDrop {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let (writer, guard) = BatchedStdout::start();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(log_format::Line)
        .fmt_fields(log_format::Fields)
        .with_writer(writer)
        .try_init();
    guard
}

/// The process-wide Prometheus recorder (installed once, shared by every app
/// in the process, which matters when tests start several).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()?;
            // Histogram samples queue up until drained; without this a busy
            // server that is never scraped would grow without bound.
            let upkeep = handle.clone();
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
            Some(handle)
        })
        .clone()
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = RequestId(rand::random());
    let route = route_label(req.path());
    let method = method_label(req.method());
    // Lines logged while serving carry the request's id at `debug`; at
    // `info` a span per request cost 8k instructions of a 76k cache hit
    // (bench/profile), and the line below carries the id anyway.
    let span = tracing::debug_span!("request", id = %request_id, method, route);
    let result = if span.is_disabled() {
        next.call(req).await
    } else {
        next.call(req).instrument(span).await
    };
    let elapsed = started.elapsed();
    // An error that reaches here (a failing session store answers this way)
    // becomes its response after this middleware: log it all the same.
    let (status, cache) = match &result {
        Ok(res) => (
            res.status().as_u16(),
            cache_label(
                res.headers()
                    .get(&X_CACHE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            ),
        ),
        Err(e) => (e.as_response_error().status_code().as_u16(), "none"),
    };
    request_histogram(route, method, status_label(status), cache).record(elapsed.as_secs_f64());
    // One message rather than six fields: the line reads the same, and a
    // field costs a dynamic visit each on a path that runs for every hit.
    tracing::info!(
        "{}",
        Served {
            id: &request_id,
            method,
            route,
            status,
            cache,
            latency_us: elapsed.as_micros() as u64,
        }
    );
    let mut res = result?;
    res.headers_mut()
        .insert(REQUEST_ID.clone(), request_id.header_value());
    Ok(res)
}

/// The request line: `served id=… method=… route=… status=… cache=… latency_us=…`.
struct Served<'a> {
    id: &'a RequestId,
    method: &'static str,
    route: &'static str,
    status: u16,
    cache: &'static str,
    latency_us: u64,
}

impl fmt::Display for Served<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Assembled on the stack and handed over in one piece: `write!` with
        // six arguments, or the log format's writer given six pieces, costs
        // more than the rest of the line.
        let mut line = StackLine::default();
        let mut number = itoa::Buffer::new();
        line.push(b"served id=");
        line.push(&self.id.hex());
        line.push(b" method=");
        line.push(self.method.as_bytes());
        line.push(b" route=");
        line.push(self.route.as_bytes());
        line.push(b" status=");
        line.push(number.format(self.status).as_bytes());
        line.push(b" cache=");
        line.push(self.cache.as_bytes());
        line.push(b" latency_us=");
        line.push(number.format(self.latency_us).as_bytes());
        f.write_str(line.as_str())
    }
}

/// A request line's text. 160 bytes hold any of them: the labels are
/// bounded and the numbers have at most 20 digits; more would be cut off.
struct StackLine {
    bytes: [u8; 160],
    len: usize,
}

impl Default for StackLine {
    fn default() -> Self {
        StackLine {
            bytes: [0; 160],
            len: 0,
        }
    }
}

impl StackLine {
    /// Appends `piece` if it fits (pieces are ASCII, so a cut never splits
    /// a character).
    fn push(&mut self, piece: &[u8]) {
        let end = (self.len + piece.len()).min(self.bytes.len());
        self.bytes[self.len..end].copy_from_slice(&piece[..end - self.len]);
        self.len = end;
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// A request's id: 64 random bits, shown as 16 hex digits.
struct RequestId(u64);

impl RequestId {
    fn hex(&self) -> [u8; 16] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = DIGITS[(self.0 >> (60 - 4 * i) & 0xf) as usize];
        }
        out
    }

    fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.hex()).expect("hex digits are a valid header value")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.hex()).map_err(|_| fmt::Error)?)
    }
}

type Labels = (&'static str, &'static str, &'static str, &'static str);

thread_local! {
    /// Histogram handles by their labels, per worker thread: looking one up
    /// in the global registry hashes its name and labels on every request.
    /// foldhash rather than SipHash: the keys are a bounded set of static
    /// labels, and SipHash was most of this lookup's cost.
    static HISTOGRAMS: RefCell<foldhash::HashMap<Labels, Histogram>> =
        RefCell::new(foldhash::HashMap::default());
}

/// The request histogram for these labels (all static, so the set is bounded).
/// Its `_count` is the request counter.
fn request_histogram(
    route: &'static str,
    method: &'static str,
    status: &'static str,
    cache: &'static str,
) -> Histogram {
    HISTOGRAMS.with(|cached| {
        cached
            .borrow_mut()
            .entry((route, method, status, cache))
            .or_insert_with(|| {
                metrics::histogram!(
                    "folio_http_request_duration_seconds",
                    "route" => route,
                    "method" => method,
                    "status" => status,
                    "cache" => cache,
                )
            })
            .clone()
    })
}

fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        _ => "other",
    }
}

fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        303 => "303",
        304 => "304",
        401 => "401",
        403 => "403",
        404 => "404",
        413 => "413",
        422 => "422",
        429 => "429",
        500 => "500",
        503 => "503",
        _ => match status / 100 {
            1 => "1xx",
            2 => "2xx",
            3 => "3xx",
            4 => "4xx",
            _ => "5xx",
        },
    }
}

fn cache_label(value: &str) -> &'static str {
    match value {
        "HIT" => "HIT",
        "MISS" => "MISS",
        "BYPASS" => "BYPASS",
        _ => "none",
    }
}

/// The route of a path, for labels. Deliberately not `match_pattern()`,
/// which runs the router's regexes a second time on every request.
fn route_label(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/feed.xml" => "/feed.xml",
        "/tags" => "/tags",
        "/about" => "/about",
        "/search" => "/search",
        "/sitemap.xml" => "/sitemap.xml",
        "/robots.txt" => "/robots.txt",
        "/admin/settings" => "/admin/settings",
        p if p.starts_with("/tags/") && p.ends_with("/feed.xml") => "/tags/{tag}/feed.xml",
        p if p.starts_with("/tags/") => "/tags/{tag}",
        p if p.starts_with("/preview/") => "/preview/{token}",
        p if p.starts_with("/admin/posts/") && p.ends_with("/preview") => {
            "/admin/posts/{id}/preview"
        }
        "/login" => "/login",
        "/logout" => "/logout",
        "/healthz" => "/healthz",
        "/metrics" => "/metrics",
        "/admin" => "/admin",
        "/admin/posts" => "/admin/posts",
        "/admin/posts/new" => "/admin/posts/new",
        p if p.starts_with("/posts/") => "/posts/{slug}",
        p if p.starts_with("/static/") => "/static/{path}",
        p if p.starts_with("/debug/") => debug_label(p),
        p if p.starts_with("/admin/posts/") && p.ends_with("/edit") => "/admin/posts/{id}/edit",
        p if p.starts_with("/admin/posts/") && p.ends_with("/delete") => "/admin/posts/{id}/delete",
        p if p.starts_with("/admin/posts/") => "/admin/posts/{id}",
        _ => "other",
    }
}

fn debug_label(path: &str) -> &'static str {
    match path {
        "/debug/cache" => "/debug/cache",
        "/debug/cache.json" => "/debug/cache.json",
        "/debug/cache/flush" => "/debug/cache/flush",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::{RequestId, Served, route_label};

    #[test]
    fn the_request_line_reads_as_name_value_pairs() {
        let line = Served {
            id: &RequestId(0x0123_4567_89ab_cdef),
            method: "GET",
            route: "/posts/{slug}",
            status: 200,
            cache: "HIT",
            latency_us: u64::MAX,
        }
        .to_string();
        assert_eq!(
            line,
            "served id=0123456789abcdef method=GET route=/posts/{slug} status=200 cache=HIT latency_us=18446744073709551615"
        );
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(route_label("/posts/hello"), "/posts/{slug}");
        assert_eq!(route_label("/admin/posts/7/edit"), "/admin/posts/{id}/edit");
        assert_eq!(route_label("/anything/else/at/all"), "other");
        assert_eq!(route_label("/debug/x"), "other");
    }
}
