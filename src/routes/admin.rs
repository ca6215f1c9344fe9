//! The admin: list, create, edit and delete posts, preview links, the
//! editor's preview, and the site settings. Every write goes through
//! `crate::write`, which removes the pages it made stale before the response
//! is sent.

use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::error::AppError;
use crate::field_errors::{Field, FieldErrors};
use crate::forms::Form;
use crate::http::{get_or_head, see_other};
use crate::markdown;
use crate::posts::{self, PostErrors, PostInput, WriteError};
use crate::render::{base_context, human_date};
use crate::site::{self, SiteErrors};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

pub fn config(cfg: &mut web::ServiceConfig) {
    // A POST to an editor's own address is its Preview button: the editor
    // again, with the input kept and rendered, and nothing saved.
    cfg.service(web::resource("/admin").route(get_or_head().to(index)))
        .service(
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
        .service(web::resource("/admin/posts/{id}").route(web::post().to(update)))
        .service(web::resource("/admin/posts/{id}/delete").route(web::post().to(delete)))
        .service(web::resource("/admin/posts/{id}/preview").route(web::post().to(new_preview)))
        .service(
            web::resource("/admin/settings")
                .route(get_or_head().to(settings_form))
                .route(web::post().to(save_settings)),
        );
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
    csrf_token: String,
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

/// What the editor shows: the submitted input, kept as typed.
#[derive(Serialize)]
struct PostInputView {
    title: String,
    slug: String,
    body: String,
    tags: String,
    publish_at: String,
    published: bool,
}

impl From<&PostInput> for PostInputView {
    fn from(input: &PostInput) -> Self {
        PostInputView {
            title: input.title.clone(),
            slug: input.slug.clone(),
            body: input.body.clone(),
            tags: input.tags.clone(),
            publish_at: input.publish_at.clone(),
            published: input.published,
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

fn html(status: StatusCode, body: String) -> HttpResponse {
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
    let mut context = base_context(Some((&admin.identity, &token)));
    context.insert("posts", &rows);
    Ok(html(
        StatusCode::OK,
        state.templates.render("admin/index.html", &context)?,
    ))
}

/// Every error at the top, and each field's own under it.
fn insert_errors<F: Field>(context: &mut tera::Context, errors: &FieldErrors<F>) {
    context.insert("errors", &errors.messages());
    context.insert("field_errors", &errors.by_field());
}

fn render_form(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    post: Option<&posts::Post>,
    form: PostInputView,
    errors: &PostErrors,
    preview: Option<Preview>,
) -> Result<HttpResponse, AppError> {
    let token = csrf::token(&admin.session)?;
    let mut context = base_context(Some((&admin.identity, &token)));
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
    let form = PostInputView::from(&PostInput {
        published: true,
        ..Default::default()
    });
    render_form(
        &state,
        &admin,
        StatusCode::OK,
        None,
        form,
        &PostErrors::new(),
        None,
    )
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
    let form = PostInputView {
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
        form,
        &PostErrors::new(),
        None,
    )
}

async fn create(
    state: web::Data<AppState>,
    admin: Admin,
    form: Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    save(&state, &admin, None, form.input()).await
}

async fn update(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
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
    let invalid = |errors: PostErrors| {
        render_form(
            state,
            admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            existing.as_ref(),
            PostInputView::from(&input),
            &errors,
            None,
        )
    };
    let valid = match posts::validate(&input) {
        Ok(valid) => valid,
        Err(errors) => return invalid(errors),
    };
    let result = match id {
        None => posts::create(&state.db, &state.cache, valid).await,
        Some(id) => posts::update(&state.db, &state.cache, id, valid).await,
    };
    match result {
        Ok(written) => {
            let slug = written.post.map(|p| p.slug).unwrap_or_default();
            Ok(see_other(&format!("/posts/{slug}")))
        }
        Err(WriteError::Invalid(errors)) => invalid(errors),
        Err(e) => Err(write_error(e)),
    }
}

async fn preview_new(
    state: web::Data<AppState>,
    admin: Admin,
    form: Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    preview(&state, &admin, None, form.input()).await
}

async fn preview_edit(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
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
    let preview = Preview {
        title: input.title.trim().to_string(),
        body_html: markdown::to_safe_html(&input.body),
    };
    render_form(
        state,
        admin,
        StatusCode::OK,
        existing.as_ref(),
        PostInputView::from(&input),
        &PostErrors::new(),
        Some(preview),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    csrf_token: String,
}

async fn delete(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    posts::delete(&state.db, &state.cache, *id)
        .await
        .map_err(write_error)?;
    Ok(see_other("/admin"))
}

/// A new preview link; the old one answers `404` from now on.
async fn new_preview(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    posts::regenerate_preview(&state.db, *id)
        .await
        .map_err(write_error)?;
    Ok(see_other(&format!("/admin/posts/{id}/edit")))
}

fn write_error(e: WriteError) -> AppError {
    match e {
        WriteError::NotFound => AppError::NotFound,
        WriteError::Db(e) => e.into(),
        WriteError::Invalid(errors) => AppError::BadRequest(errors.messages().join(" ")),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    title: String,
    tagline: String,
    about: String,
    csrf_token: String,
}

fn render_settings(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &site::Site,
    errors: &SiteErrors,
) -> Result<HttpResponse, AppError> {
    let token = csrf::token(&admin.session)?;
    let mut context = base_context(Some((&admin.identity, &token)));
    context.insert("form", form);
    insert_errors(&mut context, errors);
    Ok(html(
        status,
        state.templates.render("admin/settings.html", &context)?,
    ))
}

async fn settings_form(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let current = site::load(&state.db).await?;
    render_settings(&state, &admin, StatusCode::OK, &current, &SiteErrors::new())
}

async fn save_settings(
    state: web::Data<AppState>,
    admin: Admin,
    form: Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    match site::validate(&form.title, &form.tagline, &form.about) {
        Ok(valid) => {
            site::update(&state.db, &state.cache, &valid).await?;
            Ok(see_other("/admin/settings"))
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
        }
    }
}
