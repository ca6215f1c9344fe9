//! The admin's post list, deleting a post and renewing its preview link, and
//! what the admin pages share (the editor is `editor`, the settings
//! `settings`). Every write goes through `crate::write`, which removes the
//! pages it made stale before the response is sent.

use super::written::after_write;
use crate::auth::csrf;
use crate::auth::session::{Admin, Identity};
use crate::error::AppError;
use crate::field_errors::{Field, FieldErrors};
use crate::forms::{CsrfForm, TokenOnly};
use crate::http::{get_or_head, see_other};
use crate::posts::{self, WriteError};
use crate::render::{base_context, human_date};
use crate::site;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Serialize;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin").route(get_or_head().to(index)))
        .service(web::resource("/admin/posts/{id}/delete").route(web::post().to(delete)))
        .service(web::resource("/admin/posts/{id}/preview").route(web::post().to(new_preview)));
}

#[derive(Serialize)]
struct AdminRow {
    id: i64,
    title: String,
    url: String,
    edit_url: String,
    delete_url: String,
    published: bool,
    scheduled: bool,
    published_human: String,
    updated_human: String,
}

/// The variables of a page that is never cached (the admin's, the login
/// form), under the site's title as it is now.
pub(super) async fn fresh_context(
    state: &AppState,
    admin: Option<(&Identity, &str)>,
) -> Result<tera::Context, AppError> {
    let site = site::load(&state.db).await?;
    Ok(base_context(&site.title, admin))
}

pub(super) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

async fn index(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let rows: Vec<AdminRow> = posts::all(&state.db)
        .await?
        .into_iter()
        .map(|p| AdminRow {
            url: format!("/posts/{}", p.slug),
            edit_url: format!("/admin/posts/{}/edit", p.id),
            delete_url: format!("/admin/posts/{}/delete", p.id),
            published: p.published != 0,
            scheduled: p.published != 0 && p.live == 0,
            published_human: if p.published != 0 {
                p.published_at
                    .map(|at| {
                        let human = human_date(at);
                        if p.live == 0 {
                            format!(
                                "{human} {} UTC",
                                posts::format_publish_at(at).get(11..).unwrap_or("")
                            )
                        } else {
                            human
                        }
                    })
                    .unwrap_or_default()
            } else {
                String::new()
            },
            updated_human: human_date(p.updated_at),
            id: p.id,
            title: p.title,
        })
        .collect();
    let token = csrf::token(&admin.session)?;
    let mut context = fresh_context(&state, Some((&admin.identity, &token))).await?;
    context.insert("posts", &rows);
    Ok(html(
        StatusCode::OK,
        state.templates.render("admin/index.html", &context)?,
    ))
}

/// Every error at the top, and each field's own under it.
pub(super) fn insert_errors<F: Field>(context: &mut tera::Context, errors: &FieldErrors<F>) {
    context.insert("errors", &errors.messages());
    context.insert("field_errors", &errors.by_field());
}

async fn delete(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<i64>,
    _form: CsrfForm<TokenOnly>,
) -> Result<HttpResponse, AppError> {
    let written = posts::delete(&state.db, &state.cache, *id)
        .await
        .map_err(write_error)?;
    Ok(after_write(&written.committed, "/admin"))
}

/// A new preview link; the old one answers `404` from now on.
async fn new_preview(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<i64>,
    _form: CsrfForm<TokenOnly>,
) -> Result<HttpResponse, AppError> {
    posts::regenerate_preview(&state.db, *id)
        .await
        .map_err(write_error)?;
    Ok(see_other(&format!("/admin/posts/{id}/edit")))
}

pub(super) fn write_error(e: WriteError) -> AppError {
    match e {
        WriteError::NotFound => AppError::NotFound,
        WriteError::Db(e) => e.into(),
        WriteError::Invalid(errors) => AppError::BadRequest(errors.messages().join(" ")),
    }
}
