//! The media library: `/admin/media` lists uploads (thumbnail, size,
//! dimensions, alt text, the posts that show each, its files' URLs) with the
//! upload form; `POST /admin/media/{id}` changes an alt text and
//! `POST /admin/media/{id}/delete` removes an upload no post shows (`409`
//! naming the posts otherwise). Both are writes (`posts::set_media_alt`,
//! `posts::delete_media`); the upload itself is `routes::media`.

use super::admin::{fresh_context, html};
use super::media::receive_upload;
use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::error::AppError;
use crate::forms::{CsrfForm, TokenOnly};
use crate::http::{get_or_head, see_other};
use crate::media::store;
use crate::posts::{self, ALT_MAX, MediaWriteError};
use crate::render::human_date;
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/media")
            .route(get_or_head().to(library))
            .route(web::post().to(upload)),
    )
    .service(web::resource("/admin/media/{id}").route(web::post().to(set_alt)))
    .service(web::resource("/admin/media/{id}/delete").route(web::post().to(delete)));
}

#[derive(Serialize)]
struct UploadRow {
    id: i64,
    url: String,
    thumbnail: String,
    width: i64,
    height: i64,
    size: String,
    format: String,
    alt: String,
    uploaded: String,
    files: Vec<FileRow>,
    used_by: Vec<UsedBy>,
}

#[derive(Serialize)]
struct FileRow {
    url: String,
    width: i64,
    size: String,
}

#[derive(Serialize)]
struct UsedBy {
    title: String,
    url: String,
    edit_url: String,
}

/// Bytes as people read them.
fn human_size(bytes: i64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KiB", b / 1024),
        b => format!("{b} B"),
    }
}

async fn library(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    library_page(&state, &admin, StatusCode::OK, None).await
}

/// The library with an optional message (a refused upload, an upload that
/// is in use).
async fn library_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let rows: Vec<UploadRow> = store::all(&state.db)
        .await?
        .into_iter()
        .map(|u| UploadRow {
            id: u.id,
            url: format!("/media/{}", u.name()),
            thumbnail: u
                .files
                .first()
                .map(|(name, _, _)| format!("/media/{name}"))
                .unwrap_or_default(),
            width: u.width,
            height: u.height,
            size: human_size(u.bytes),
            format: u.format.to_uppercase(),
            alt: u.alt.clone(),
            uploaded: human_date(u.created_at),
            files: u
                .files
                .iter()
                .map(|(name, width, bytes)| FileRow {
                    url: format!("/media/{name}"),
                    width: *width,
                    size: human_size(*bytes),
                })
                .collect(),
            used_by: u
                .used_by
                .iter()
                .map(|(id, title, slug)| UsedBy {
                    title: title.clone(),
                    url: format!("/posts/{slug}"),
                    edit_url: format!("/admin/posts/{id}/edit"),
                })
                .collect(),
        })
        .collect();
    let token = csrf::token(&admin.session)?;
    let mut context = fresh_context(state, Some((&admin.identity, &token))).await?;
    context.insert("uploads", &rows);
    context.insert("alt_max", &ALT_MAX);
    if let Some(error) = error {
        context.insert("error", error);
    }
    Ok(html(
        status,
        state.templates.render("admin/media.html", &context)?,
    ))
}

/// `POST /admin/media`: `303` back to the library, or for the editor's
/// script (`Accept: application/json`) `201` with the URL and the Markdown
/// to insert. The Markdown leaves the alt empty, so the post shows the
/// upload's alt text, and a later change of it.
async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: Admin,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    match receive_upload(&req, &state, &admin, payload).await? {
        Ok((url, alt)) if json => Ok(HttpResponse::Created().json(serde_json::json!({
            "url": url,
            "alt": alt,
            "markdown": format!("![]({url})"),
        }))),
        Ok(_) => Ok(see_other("/admin/media")),
        Err((status, message)) if json => {
            Ok(HttpResponse::build(status).json(serde_json::json!({ "error": message })))
        }
        Err((status, message)) => library_page(&state, &admin, status, Some(&message)).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AltForm {
    alt: String,
}

async fn set_alt(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: CsrfForm<AltForm>,
) -> Result<HttpResponse, AppError> {
    let alt = form.alt.trim();
    if alt.chars().count() > ALT_MAX {
        let message = format!("An alt text is at most {ALT_MAX} characters.");
        return library_page(
            &state,
            &admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&message),
        )
        .await;
    }
    match posts::set_media_alt(&state.db, &state.cache, *id, alt).await {
        Ok(_) => Ok(see_other("/admin/media")),
        Err(e) => Err(media_error(e)),
    }
}

async fn delete(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    _form: CsrfForm<TokenOnly>,
) -> Result<HttpResponse, AppError> {
    match posts::delete_media(&state.db, &state.cache, *id).await {
        Ok(names) => {
            state.media_files.remove(&names);
            Ok(see_other("/admin/media"))
        }
        Err(MediaWriteError::InUse(users)) => {
            let titles: Vec<String> = users
                .iter()
                .map(|(_, title)| format!("\u{201c}{title}\u{201d}"))
                .collect();
            let message = format!(
                "This picture is shown by {}: remove it from {} first.",
                titles.join(", "),
                if users.len() == 1 {
                    "that post"
                } else {
                    "those posts"
                }
            );
            library_page(&state, &admin, StatusCode::CONFLICT, Some(&message)).await
        }
        Err(e) => Err(media_error(e)),
    }
}

fn media_error(e: MediaWriteError) -> AppError {
    match e {
        MediaWriteError::NotFound => AppError::NotFound,
        MediaWriteError::Db(e) => e.into(),
        MediaWriteError::InUse(_) => AppError::BadRequest("the upload is in use".into()),
    }
}
