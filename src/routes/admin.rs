//! The admin: list, create, edit and delete posts. Every write invalidates the
//! pages it made stale before its response is sent.

use crate::auth::csrf;
use crate::auth::session::Admin;
use crate::error::AppError;
use crate::http::get_or_head;
use crate::posts::{self, PostInput, WriteError, Written};
use crate::render::{base_context, human_date};
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin").route(get_or_head().to(index)))
        .service(web::resource("/admin/posts/new").route(get_or_head().to(new_form)))
        .service(web::resource("/admin/posts").route(web::post().to(create)))
        .service(web::resource("/admin/posts/{id}/edit").route(get_or_head().to(edit_form)))
        .service(web::resource("/admin/posts/{id}").route(web::post().to(update)))
        .service(web::resource("/admin/posts/{id}/delete").route(web::post().to(delete)));
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PostForm {
    title: String,
    body: String,
    slug: String,
    published: Option<String>,
    csrf_token: String,
}

impl PostForm {
    fn input(&self) -> PostInput {
        PostInput {
            title: self.title.clone(),
            slug: self.slug.clone(),
            body: self.body.clone(),
            published: self
                .published
                .as_deref()
                .is_some_and(|v| !v.is_empty() && v != "off"),
        }
    }
}

#[derive(Serialize)]
struct FormView {
    title: String,
    slug: String,
    body: String,
    published: bool,
}

impl From<&PostInput> for FormView {
    fn from(input: &PostInput) -> Self {
        FormView {
            title: input.title.clone(),
            slug: input.slug.clone(),
            body: input.body.clone(),
            published: input.published,
        }
    }
}

#[derive(Serialize)]
struct AdminRow {
    id: i64,
    title: String,
    url: String,
    edit_url: String,
    delete_url: String,
    published: bool,
    published_human: String,
    updated_human: String,
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
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
            published_human: if p.published != 0 {
                p.published_at.map(human_date).unwrap_or_default()
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

fn render_form(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    id: Option<i64>,
    form: FormView,
    errors: &[String],
) -> Result<HttpResponse, AppError> {
    let token = csrf::token(&admin.session)?;
    let mut context = base_context(Some((&admin.identity, &token)));
    context.insert("is_new", &id.is_none());
    context.insert(
        "action",
        &id.map_or_else(
            || "/admin/posts".to_string(),
            |id| format!("/admin/posts/{id}"),
        ),
    );
    context.insert("form", &form);
    context.insert("errors", errors);
    Ok(html(
        status,
        state.templates.render("admin/edit.html", &context)?,
    ))
}

async fn new_form(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let form = FormView {
        title: String::new(),
        slug: String::new(),
        body: String::new(),
        published: true,
    };
    render_form(&state, &admin, StatusCode::OK, None, form, &[])
}

async fn edit_form(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let post = posts::by_id(&state.db, *id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = FormView {
        published: post.is_published(),
        title: post.title,
        slug: post.slug,
        body: post.body,
    };
    render_form(&state, &admin, StatusCode::OK, Some(post.id), form, &[])
}

async fn create(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    save(&state, &admin, None, form.input()).await
}

async fn update(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: web::Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    save(&state, &admin, Some(*id), form.input()).await
}

#[tracing::instrument(skip(state, admin, input), fields(post_id = ?id))]
async fn save(
    state: &AppState,
    admin: &Admin,
    id: Option<i64>,
    input: PostInput,
) -> Result<HttpResponse, AppError> {
    let invalid = |errors: Vec<String>| {
        render_form(
            state,
            admin,
            StatusCode::UNPROCESSABLE_ENTITY,
            id,
            FormView::from(&input),
            &errors,
        )
    };
    let valid = match posts::validate(&input) {
        Ok(valid) => valid,
        Err(errors) => return invalid(errors),
    };
    let result = match id {
        None => posts::create(&state.db, valid).await,
        Some(id) => posts::update(&state.db, id, valid).await,
    };
    match result {
        Ok(written) => {
            let slug = written
                .post
                .as_ref()
                .map(|p| p.slug.clone())
                .unwrap_or_default();
            invalidate(state, &written).await;
            Ok(see_other(&format!("/posts/{slug}")))
        }
        Err(WriteError::Invalid(errors)) => invalid(errors),
        Err(e) => Err(write_error(e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteForm {
    csrf_token: String,
}

async fn delete(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    csrf::verify(&admin.session, &form.csrf_token)?;
    let written = posts::delete(&state.db, *id).await.map_err(write_error)?;
    invalidate(&state, &written).await;
    Ok(see_other("/admin"))
}

/// Runs before the response: once the `303` is out, no visitor gets the old page.
async fn invalidate(state: &AppState, written: &Written) {
    let confirmed = state
        .cache
        .invalidate(written.outbox_id, &written.stale)
        .await;
    tracing::info!(
        pages = ?written.stale.iter().map(|p| p.path()).collect::<Vec<_>>(),
        confirmed,
        "invalidated"
    );
}

fn write_error(e: WriteError) -> AppError {
    match e {
        WriteError::NotFound => AppError::NotFound,
        WriteError::Db(e) => e.into(),
        WriteError::Other(e) => AppError::Unexpected(e),
        WriteError::Invalid(errors) => AppError::BadRequest(errors.join(" ")),
    }
}
