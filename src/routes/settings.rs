//! The site settings form: title, tagline and about. Saving goes through
//! `site`, whose write removes the pages it made stale before the response.

use super::admin::{fresh_context, html, insert_errors};
use super::written::after_write;
use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::error::AppError;
use crate::forms::CsrfForm;
use crate::http::get_or_head;
use crate::site::{self, SiteErrors};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/settings")
            .route(get_or_head().to(settings_form))
            .route(web::post().to(save_settings)),
    );
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    title: String,
    tagline: String,
    about: String,
}

async fn render_settings(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &site::Site,
    errors: &SiteErrors,
) -> Result<HttpResponse, AppError> {
    let token = csrf::token(&admin.session)?;
    let mut context = fresh_context(state, Some((&admin.identity, &token))).await?;
    context.insert("form", form);
    insert_errors(&mut context, errors);
    Ok(html(
        status,
        state.templates.render("admin/settings.html", &context)?,
    ))
}

async fn settings_form(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let current = site::load(&state.db).await?;
    render_settings(&state, &admin, StatusCode::OK, &current, &SiteErrors::new()).await
}

async fn save_settings(
    state: web::Data<AppState>,
    admin: Admin,
    form: CsrfForm<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    match site::validate(&form.title, &form.tagline, &form.about) {
        Ok(valid) => {
            let committed = site::update(&state.db, &state.cache, &valid).await?;
            Ok(after_write(&committed, "/admin/settings"))
        }
        Err(errors) => {
            let kept = site::Site {
                title: form.title.clone(),
                tagline: form.tagline.clone(),
                about: form.about.clone(),
            };
            render_settings(
                &state,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                &kept,
                &errors,
            )
            .await
        }
    }
}
