//! The cache panel: `/debug/cache` (HTML), `/debug/cache.json`, and a flush.

use super::admin::fresh_context;
use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::cache::stats::Snapshot;
use crate::cache_control::CachePolicy;
use crate::error::AppError;
use crate::forms::{CsrfForm, TokenOnly};
use crate::http::get_or_head;
use crate::state::AppState;
use actix_web::{HttpResponse, web};

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
    Ok(CachePolicy::PrivateNoStore
        .build(&mut HttpResponse::Ok())
        .content_type("text/html; charset=utf-8")
        .body(body))
}

async fn json(state: web::Data<AppState>, _admin: Admin) -> HttpResponse {
    let snapshot: Snapshot = state.cache.snapshot().await;
    CachePolicy::PrivateNoStore
        .build(&mut HttpResponse::Ok())
        .json(snapshot)
}

async fn flush(
    state: web::Data<AppState>,
    _admin: Admin,
    _form: CsrfForm<TokenOnly>,
) -> Result<HttpResponse, AppError> {
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
