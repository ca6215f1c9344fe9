//! `/healthz` and `/metrics`.

use crate::cache_control::CachePolicy;
use crate::http::get_or_head;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;
use std::time::{Duration, Instant};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(get_or_head().to(healthz)))
        .service(web::resource("/metrics").route(get_or_head().to(metrics)));
}

/// `200` while the blog can serve pages, which needs the database; Redis
/// being away only slows it down.
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    // Marked down: say so at once; the prober is already trying it.
    let database_up = !state.db_health.is_down()
        && tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&state.db),
        )
        .await
        .is_ok_and(|r| r.is_ok());
    let database_ms = started.elapsed().as_secs_f64() * 1000.0;
    let redis = if state.cache.enabled() {
        if state.cache.usable() { "up" } else { "down" }
    } else {
        "off"
    };
    let edge = if state.cache.edge().enabled() {
        let behind = state.cache.edge().behind(&state.db).await.unwrap_or(-1);
        let pending = state.cache.edge().pending(&state.db).await.unwrap_or(-1);
        json!({ "endpoints": state.cache.edge().endpoints().len(), "behind": behind, "pending": pending })
    } else {
        json!(null)
    };
    let body = json!({
        "status": if database_up { "ok" } else { "unavailable" },
        "database": { "up": database_up, "marked_down": state.db_health.is_down(), "latency_ms": database_ms },
        "redis": { "state": redis, "up": redis == "up", "cache_in_use": state.cache.usable() },
        "edge": edge,
    });
    let mut response = if database_up {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    CachePolicy::NoStore.build(&mut response).json(body)
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let size = state.db.size();
    let idle = state.db.num_idle() as u32;
    metrics::gauge!("folio_db_pool_connections").set(f64::from(size));
    metrics::gauge!("folio_db_pool_in_use").set(f64::from(size.saturating_sub(idle)));
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    CachePolicy::NoStore
        .build(&mut HttpResponse::Ok())
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
