//! The post editor: the new and edit forms, saving, and the Preview button
//! (a POST to the editor's own address renders the input without saving).
//! Saving goes through `posts`, whose writes remove the pages they made
//! stale before the response is sent.

use super::admin::{fresh_context, html, insert_errors, write_error};
use super::written::after_write;
use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::error::AppError;
use crate::forms::CsrfForm;
use crate::http::get_or_head;
use crate::markdown;
use crate::media;
use crate::posts::{self, PostErrors, PostInput, WriteError};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

pub fn config(cfg: &mut web::ServiceConfig) {
    // A POST to an editor's own address is its Preview button: the editor
    // again, with the input kept and rendered, and nothing saved.
    cfg.service(
        web::resource("/admin/posts/new")
            .route(get_or_head().to(new_form))
            .route(web::post().to(preview_new)),
    )
    .service(web::resource("/admin/posts").route(web::post().to(create)))
    .service(
        web::resource("/admin/posts/{id}/edit")
            .route(get_or_head().to(edit_form))
            .route(web::post().to(preview_edit)),
    )
    .service(web::resource("/admin/posts/{id}").route(web::post().to(update)));
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PostForm {
    title: String,
    body: String,
    slug: String,
    tags: String,
    publish_at: String,
    published: Option<String>,
}

impl PostForm {
    fn input(&self) -> PostInput {
        PostInput {
            title: self.title.clone(),
            slug: self.slug.clone(),
            body: self.body.clone(),
            tags: self.tags.clone(),
            publish_at: self.publish_at.clone(),
            published: self
                .published
                .as_deref()
                .is_some_and(|v| !v.is_empty() && v != "off"),
        }
    }
}

/// The editor's preview of the unsaved input, rendered and sanitized as a
/// published post is.
#[derive(Serialize)]
struct Preview {
    title: String,
    body_html: String,
}

async fn render_form(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    post: Option<&posts::Post>,
    form: &PostInput,
    errors: &PostErrors,
    preview: Option<Preview>,
) -> Result<HttpResponse, AppError> {
    let token = csrf::token(&admin.session)?;
    let mut context = fresh_context(state, Some((&admin.identity, &token))).await?;
    context.insert("is_new", &post.is_none());
    context.insert(
        "action",
        &post.map_or_else(
            || "/admin/posts".to_string(),
            |p| format!("/admin/posts/{}", p.id),
        ),
    );
    context.insert(
        "preview_action",
        &post.map_or_else(
            || "/admin/posts/new".to_string(),
            |p| format!("/admin/posts/{}/edit", p.id),
        ),
    );
    if let Some(post) = post.filter(|p| !p.is_live())
        && let Some(token) = &post.preview_token
    {
        context.insert("preview_url", &format!("/preview/{token}"));
        context.insert(
            "preview_reset_url",
            &format!("/admin/posts/{}/preview", post.id),
        );
    }
    // Counted as validation counts: characters of the trimmed title.
    let title_count = form.title.trim().chars().count();
    context.insert("title_count", &title_count);
    context.insert("title_max", &posts::TITLE_MAX);
    context.insert("form", &form);
    insert_errors(&mut context, errors);
    if let Some(preview) = preview {
        context.insert("preview", &preview);
    }
    Ok(html(
        status,
        state.templates.render("admin/edit.html", &context)?,
    ))
}

async fn new_form(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let form = PostInput {
        published: true,
        ..Default::default()
    };
    render_form(
        &state,
        &admin,
        StatusCode::OK,
        None,
        &form,
        &PostErrors::new(),
        None,
    )
    .await
}

async fn edit_form(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let post = posts::by_id(&state.db, *id)
        .await?
        .ok_or(AppError::NotFound)?;
    let tags = posts::tags_of(&state.db, post.id).await?;
    let form = PostInput {
        published: post.is_published(),
        title: post.title.clone(),
        slug: post.slug.clone(),
        body: post.body.clone(),
        tags: tags.join(", "),
        // A live post keeps its date when the field is left as it is.
        publish_at: post
            .published_at
            .filter(|_| !post.is_live())
            .map(posts::format_publish_at)
            .unwrap_or_default(),
    };
    render_form(
        &state,
        &admin,
        StatusCode::OK,
        Some(&post),
        &form,
        &PostErrors::new(),
        None,
    )
    .await
}

async fn create(
    state: web::Data<AppState>,
    admin: Admin,
    form: CsrfForm<PostForm>,
) -> Result<HttpResponse, AppError> {
    save(&state, &admin, None, form.input()).await
}

async fn update(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: CsrfForm<PostForm>,
) -> Result<HttpResponse, AppError> {
    save(&state, &admin, Some(*id), form.input()).await
}

/// The post being edited, if any; `404` for an unknown id.
async fn existing(state: &AppState, id: Option<i64>) -> Result<Option<posts::Post>, AppError> {
    match id {
        Some(id) => Ok(Some(
            posts::by_id(&state.db, id)
                .await?
                .ok_or(AppError::NotFound)?,
        )),
        None => Ok(None),
    }
}

#[tracing::instrument(skip(state, admin, input), fields(post_id = ?id))]
async fn save(
    state: &AppState,
    admin: &Admin,
    id: Option<i64>,
    input: PostInput,
) -> Result<HttpResponse, AppError> {
    let existing = existing(state, id).await?;
    let (existing, kept) = (existing.as_ref(), &input);
    let invalid = |errors: PostErrors| async move {
        render_form(
            state,
            admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            existing,
            kept,
            &errors,
            None,
        )
        .await
    };
    let valid = match posts::validate(&input) {
        Ok(valid) => valid,
        Err(errors) => return invalid(errors).await,
    };
    let result = match id {
        None => posts::create(&state.db, &state.cache, valid).await,
        Some(id) => posts::update(&state.db, &state.cache, id, valid).await,
    };
    match result {
        Ok(written) => {
            let slug = written.post.map(|p| p.slug).unwrap_or_default();
            Ok(after_write(&written.committed, &format!("/posts/{slug}")))
        }
        Err(WriteError::Invalid(errors)) => invalid(errors).await,
        Err(e) => Err(write_error(e)),
    }
}

async fn preview_new(
    state: web::Data<AppState>,
    admin: Admin,
    form: CsrfForm<PostForm>,
) -> Result<HttpResponse, AppError> {
    preview(&state, &admin, None, form.input()).await
}

async fn preview_edit(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: CsrfForm<PostForm>,
) -> Result<HttpResponse, AppError> {
    preview(&state, &admin, Some(*id), form.input()).await
}

/// The editor with the input kept and its body rendered by the same
/// sanitizer as a saved post. Reads only: nothing is saved or invalidated,
/// and the rules are checked when the post is saved.
async fn preview(
    state: &AppState,
    admin: &Admin,
    id: Option<i64>,
    input: PostInput,
) -> Result<HttpResponse, AppError> {
    let existing = existing(state, id).await?;
    let mut conn = state.db.acquire().await?;
    let uploads = media::store::shown_for(&mut conn, &media::names_in(&input.body)).await?;
    drop(conn);
    let preview = Preview {
        title: input.title.trim().to_string(),
        body_html: markdown::to_safe_html_with(&input.body, &uploads),
    };
    render_form(
        state,
        admin,
        StatusCode::OK,
        existing.as_ref(),
        &input,
        &PostErrors::new(),
        Some(preview),
    )
    .await
}
