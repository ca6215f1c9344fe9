//! Login and logout. Neither changes a cached page: cached pages are the
//! anonymous renders and hold nothing about who is logged in, so there is
//! nothing for them to invalidate.

use super::admin::fresh_context;
use crate::auth::session::{self, Viewer};
use crate::auth::{self, csrf, password};
use crate::cache_control::CachePolicy;
use crate::error::AppError;
use crate::forms::{CsrfForm, TokenOnly};
use crate::http::{client_ip, get_or_head, local_next};
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Deserialize;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(get_or_head().to(login_form))
            .route(web::post().to(login)),
    )
    .service(web::resource("/logout").route(web::post().to(logout)));
}

#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    next: String,
}

async fn login_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: Option<web::Query<NextQuery>>,
) -> Result<HttpResponse, AppError> {
    let next = query.map(|q| q.into_inner().next).unwrap_or_default();
    render_login(&state, &viewer, StatusCode::OK, None, "", &next).await
}

async fn render_login(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    error: Option<&str>,
    username: &str,
    next: &str,
) -> Result<HttpResponse, AppError> {
    let token = csrf::token(&viewer.session())?;
    let admin = viewer
        .identity
        .as_ref()
        .map(|identity| (identity, token.as_str()));
    let mut context = fresh_context(state, admin).await?;
    context.insert("csrf_token", &token);
    context.insert("next", &local_next(next));
    context.insert("username_value", username);
    if let Some(error) = error {
        context.insert("error", error);
    }
    let body = state.templates.render("auth/login.html", &context)?;
    Ok(CachePolicy::NoStore
        .build(&mut HttpResponse::build(status))
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[tracing::instrument(skip_all, fields(username = %form.username))]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: CsrfForm<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let ip = client_ip(&req);
    let username = form.username.trim().to_string();
    if state.throttle.is_blocked(ip, &username) {
        tracing::warn!(%ip, "login throttled");
        return Err(AppError::TooManyAttempts);
    }
    let account = if auth::valid_username(&username) {
        auth::find(&state.db, &username).await?
    } else {
        None
    };
    let matched = password::verify(
        account.as_ref().map(|a| a.password_hash.clone()),
        SecretString::from(form.password),
    )
    .await;
    let Some(account) = account.filter(|_| matched) else {
        state.throttle.record_failure(ip, &username);
        return render_login(
            &state,
            &viewer,
            StatusCode::UNAUTHORIZED,
            Some("Wrong username or password."),
            &username,
            &form.next,
        )
        .await;
    };
    state.throttle.record_success(ip, &username);
    session::log_in(&viewer.session(), account.id, &account.username)?;
    csrf::rotate(&viewer.session())?;
    tracing::info!("admin logged in");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, local_next(&form.next)))
        .finish())
}

async fn logout(viewer: Viewer, _form: CsrfForm<TokenOnly>) -> Result<HttpResponse, AppError> {
    // Deletes the row: the old cookie, replayed, finds no session.
    viewer.session().purge();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .finish())
}
