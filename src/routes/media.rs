//! `/media/{name}`: the stored files of uploads, immutable (names come from
//! the content), from the in-process cache of hot files or the database;
//! and `POST /admin/media`, the upload: multipart, read as a stream with the
//! size limit enforced while reading, judged by decoding (`media::process`).

use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::cache::respond::client_has;
use crate::cache_control::CachePolicy;
use crate::error::AppError;
use crate::http::get_or_head;
use crate::media::hot::HotFile;
use crate::media::process::{self, Refusal};
use crate::media::{Format, MAX_UPLOAD_BYTES, is_file_name, store};
use crate::state::AppState;
use actix_multipart::{Field, Multipart};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

/// A year: names never change meaning.
/// Room for the other fields and the multipart framing around the file.
const FRAMING: usize = 64 * 1024;
/// Longest text field read (alt, csrf_token).
const TEXT_MAX: usize = 4096;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/media/{name}").route(get_or_head().to(serve)));
}

async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    if !is_file_name(&name) {
        return Err(AppError::NotFound);
    }
    let file = match state.media_files.get(&name) {
        Some(file) => file,
        None => {
            let (content_type, bytes) = store::file(&state.db, &name)
                .await?
                .ok_or(AppError::NotFound)?;
            let format = name
                .rsplit('.')
                .next()
                .and_then(Format::parse)
                .ok_or(AppError::NotFound)?;
            debug_assert_eq!(format.content_type(), content_type);
            let file = HotFile {
                content_type: format.content_type(),
                bytes: Bytes::from(bytes),
            };
            state.media_files.put(&name, file.clone());
            file
        }
    };
    let cached = client_has(&req, &name);
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    let policy = if state.cache.edge().enabled() {
        CachePolicy::ImmutableShared
    } else {
        CachePolicy::Immutable
    };
    policy
        .build(&mut response)
        .insert_header(header::ETag(EntityTag::new_strong(name)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if cached {
        return Ok(response.finish());
    }
    Ok(response.content_type(file.content_type).body(file.bytes))
}

/// What the upload form sent.
#[derive(Default)]
struct UploadForm {
    file: Option<Vec<u8>>,
    alt: String,
    csrf_token: String,
}

/// Why an upload was not stored.
enum Rejected {
    TooLarge,
    Malformed(String),
    Refused(Refusal),
    App(AppError),
}

/// An upload's answer: the stored picture's URL and alt text, or why it was
/// refused (status and message); `Err` for what is no fault of the file
/// (a bad token, the database).
pub(super) async fn receive_upload(
    req: &HttpRequest,
    state: &AppState,
    admin: &Admin,
    payload: Multipart,
) -> Result<Result<(String, String), (StatusCode, String)>, AppError> {
    match receive(req, state, admin, payload).await {
        Ok(stored) => Ok(Ok(stored)),
        Err(Rejected::App(e)) => Err(e),
        Err(Rejected::TooLarge) => Ok(Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            "This file is larger than 20 MiB, the most folio accepts.".to_string(),
        ))),
        Err(Rejected::Malformed(m)) => Ok(Err((StatusCode::BAD_REQUEST, m))),
        Err(Rejected::Refused(r)) => Ok(Err((StatusCode::UNPROCESSABLE_ENTITY, r.to_string()))),
    }
}

/// Reads the form, checks its token, judges the file and stores it.
/// Returns the full-size file's URL and the alt text.
async fn receive(
    req: &HttpRequest,
    state: &AppState,
    admin: &Admin,
    payload: Multipart,
) -> Result<(String, String), Rejected> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES + FRAMING) {
        return Err(Rejected::TooLarge);
    }
    let form = read_form(payload).await?;
    csrf::verify(&admin.session, &form.csrf_token).map_err(Rejected::App)?;
    let bytes = form
        .file
        .filter(|f| !f.is_empty())
        .ok_or(Rejected::Refused(Refusal::Empty))?;
    let alt = form
        .alt
        .trim()
        .chars()
        .take(crate::posts::ALT_MAX)
        .collect::<String>();
    let hash = hex(&Sha256::digest(&bytes));
    let app = |e: sqlx::Error| Rejected::App(e.into());
    if let Some((_, name)) = store::by_hash(&state.db, &hash).await.map_err(app)? {
        return Ok((format!("/media/{name}"), alt));
    }
    let size = bytes.len();
    let processed = process::process_bounded(bytes)
        .await
        .map_err(Rejected::Refused)?;
    let (id, name) = store::insert(&state.db, &hash, size, &alt, &processed)
        .await
        .map_err(app)?;
    tracing::info!(id, name, bytes = size, "upload stored");
    Ok((format!("/media/{name}"), alt))
}

async fn read_form(mut payload: Multipart) -> Result<UploadForm, Rejected> {
    let mut form = UploadForm::default();
    while let Some(field) = payload.next().await {
        let field =
            field.map_err(|e| Rejected::Malformed(format!("The upload is malformed: {e}")))?;
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" => form.file = Some(read_field(field, MAX_UPLOAD_BYTES, true).await?),
            "alt" | "csrf_token" => {
                let bytes = read_field(field, TEXT_MAX, false).await?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| Rejected::Malformed("A form field is not UTF-8.".into()))?;
                if name == "alt" {
                    form.alt = text;
                } else {
                    form.csrf_token = text;
                }
            }
            // Unknown fields are read past, within the same bound.
            _ => {
                read_field(field, TEXT_MAX, false).await?;
            }
        }
    }
    Ok(form)
}

/// A field's bytes, refused as soon as they pass `limit`.
async fn read_field(mut field: Field, limit: usize, is_file: bool) -> Result<Vec<u8>, Rejected> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk =
            chunk.map_err(|e| Rejected::Malformed(format!("The upload is malformed: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(if is_file {
                Rejected::TooLarge
            } else {
                Rejected::Malformed("A form field is too long.".into())
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
