//! The cache panel: `/debug/cache` (HTML), `/debug/cache.json`, and a flush.

use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::cache::stats::{MinutePoint, Snapshot};
use crate::error::AppError;
use crate::forms::Form;
use crate::http::get_or_head;
use crate::render::base_context;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use std::fmt::Write;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/debug/cache").route(get_or_head().to(panel)))
        .service(web::resource("/debug/cache.json").route(get_or_head().to(json)))
        .service(web::resource("/debug/cache/flush").route(web::post().to(flush)));
}

async fn panel(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let snapshot = state.cache.snapshot().await;
    let token = csrf::token(&admin.session)?;
    let mut context = base_context(Some((&admin.identity, &token)));
    context.insert("chart_svg", &chart(&snapshot.minutes));
    context.insert(
        "hit_ratio_pct",
        &snapshot.hit_ratio.map(|r| format!("{:.1}", r * 100.0)),
    );
    context.insert("s", &snapshot);
    let body = state.templates.render("debug/cache.html", &context)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body))
}

async fn json(state: web::Data<AppState>, _admin: Admin) -> HttpResponse {
    let snapshot: Snapshot = state.cache.snapshot().await;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(snapshot)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FlushForm {
    csrf_token: String,
}

async fn flush(
    state: web::Data<AppState>,
    admin: Admin,
    form: Form<FlushForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    match state.cache.flush().await {
        Ok(n) => tracing::info!(removed = n, "cache flushed"),
        Err(e) => {
            tracing::warn!(error = %e, "cache flush failed");
            return Err(AppError::BadRequest(
                "Redis is not reachable; nothing was flushed.".to_string(),
            ));
        }
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/debug/cache"))
        .finish())
}

/// Hits and misses per minute over the last hour as an inline SVG: stacked
/// bars, hits at the bottom. Drawn on the server, so the panel needs no script.
fn chart(points: &[MinutePoint]) -> String {
    const W: f64 = 600.0;
    const H: f64 = 160.0;
    let max = points
        .iter()
        .map(|p| p.hits + p.misses)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bar = W / points.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="Hits and misses per minute, last hour" xmlns="http://www.w3.org/2000/svg">"#,
        h = H + 18.0
    );
    let _ = write!(
        svg,
        r#"<line x1="0" y1="{H}" x2="{W}" y2="{H}" class="chart__axis"/>"#
    );
    for (i, p) in points.iter().enumerate() {
        let x = i as f64 * bar + 1.0;
        let hit_h = p.hits as f64 / max * H;
        let miss_h = p.misses as f64 / max * H;
        let w = (bar - 2.0).max(1.0);
        let _ = write!(
            svg,
            r#"<g><title>{} hits, {} misses</title><rect class="chart__hits" x="{x:.1}" y="{:.1}" width="{w:.1}" height="{hit_h:.1}"/><rect class="chart__misses" x="{x:.1}" y="{:.1}" width="{w:.1}" height="{miss_h:.1}"/></g>"#,
            p.hits,
            p.misses,
            H - hit_h,
            H - hit_h - miss_h
        );
    }
    let _ = write!(
        svg,
        r#"<text x="0" y="{y}" class="chart__label">60 min ago</text><text x="{W}" y="{y}" text-anchor="end" class="chart__label">now · peak {max} req/min</text></svg>"#,
        y = H + 14.0,
        max = max as u64
    );
    svg
}
