//! The cache panel: `/debug/cache` (HTML), `/debug/cache.json`, and a flush.

use super::admin::fresh_context;
use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::cache::stats::Snapshot;
use crate::error::AppError;
use crate::forms::Form;
use crate::http::get_or_head;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/debug/cache").route(get_or_head().to(panel)))
        .service(web::resource("/debug/cache.json").route(get_or_head().to(json)))
        .service(web::resource("/debug/cache/flush").route(web::post().to(flush)));
}

async fn panel(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let snapshot = state.cache.snapshot().await;
    let token = csrf::token(&admin.session)?;
    let mut context = fresh_context(&state, Some((&admin.identity, &token))).await?;
    context.insert("chart_svg", &crate::chart::hit_chart(&snapshot.minutes));
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
    Ok(crate::http::see_other("/debug/cache"))
}
