//! The public pages: index, posts and the feed, all through the page cache.

use crate::auth::csrf;
use crate::auth::session::Viewer;
use crate::cache::deps::{FEED_LEN, PAGE_SIZE, page_count};
use crate::cache::keys::{self, Page};
use crate::cache::{CacheStatus, ContentKind, Rendered, X_CACHE};
use crate::error::AppError;
use crate::http::get_or_head;
use crate::posts;
use crate::render::{SITE_TITLE, base_context, human_date, iso_date};
use crate::state::AppState;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use tera::Context;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(get_or_head().to(index)))
        // A static prefix rather than `/posts/{slug}`: dynamic segments are
        // matched with a regex, which showed up in profiles of the hit path.
        .service(web::scope("/posts").default_service(web::to(post)))
        .service(web::resource("/feed.xml").route(get_or_head().to(feed)));
}

async fn index(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> HttpResponse {
    let Some(number) = keys::index_page(req.query_string()) else {
        return uncached(AppError::NotFound);
    };
    let page = Page::Index(number);
    state
        .cache
        .serve(&req, &page, viewer.is_admin(), || {
            render_index(&state, &viewer, number)
        })
        .await
}

async fn post(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> HttpResponse {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    let slug = req
        .path()
        .strip_prefix("/posts/")
        .unwrap_or_default()
        .to_string();
    if !posts::is_valid_slug(&slug) {
        return uncached(AppError::NotFound);
    }
    let page = Page::Post(slug.clone());
    state
        .cache
        .serve(&req, &page, viewer.is_admin(), || {
            render_post(&state, &viewer, slug)
        })
        .await
}

async fn feed(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> HttpResponse {
    state
        .cache
        .serve(&req, &Page::Feed, viewer.is_admin(), || render_feed(&state))
        .await
}

/// An answer for a cacheable URL that never touched the cache.
fn uncached(error: AppError) -> HttpResponse {
    let mut response = error.error_response();
    response.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static(X_CACHE),
        actix_web::http::header::HeaderValue::from_static(CacheStatus::Bypass.as_str()),
    );
    response
}

/// The common context for a public page: personal only for the admin, whose
/// renders are never cached.
fn page_context(viewer: &Viewer) -> Result<Context, AppError> {
    match &viewer.identity {
        Some(identity) => {
            let token = csrf::token(&viewer.session)?;
            Ok(base_context(Some((identity, &token))))
        }
        None => Ok(base_context(None)),
    }
}

#[derive(Serialize)]
struct SummaryView {
    title: String,
    url: String,
    published_human: String,
    published_iso: String,
    summary: String,
}

async fn render_index(
    state: &AppState,
    viewer: &Viewer,
    number: u32,
) -> Result<Rendered, AppError> {
    let total = posts::published_count(&state.db).await?;
    let pages = page_count(total);
    if i64::from(number) > pages {
        return Err(AppError::NotFound);
    }
    let rows = posts::published_page(&state.db, number, PAGE_SIZE).await?;
    let summaries: Vec<SummaryView> = rows
        .into_iter()
        .map(|p| {
            let at = p.published_at.unwrap_or(p.created_at);
            SummaryView {
                url: format!("/posts/{}", p.slug),
                title: p.title,
                published_human: human_date(at),
                published_iso: iso_date(at),
                summary: p.summary,
            }
        })
        .collect();
    let mut context = page_context(viewer)?;
    context.insert("posts", &summaries);
    context.insert("page", &number);
    context.insert("total_pages", &pages);
    let prev_url = match number {
        1 => String::new(),
        2 => "/".to_string(),
        n => format!("/?page={}", n - 1),
    };
    let next_url = if i64::from(number) < pages {
        format!("/?page={}", number + 1)
    } else {
        String::new()
    };
    context.insert("prev_url", &prev_url);
    context.insert("next_url", &next_url);
    let body = state.templates.render("blog/index.html", &context)?;
    Ok(Rendered {
        kind: ContentKind::Html,
        body,
    })
}

#[derive(Serialize)]
struct PostView {
    title: String,
    body_html: String,
    published_human: String,
    published_iso: String,
    draft: bool,
}

async fn render_post(
    state: &AppState,
    viewer: &Viewer,
    slug: String,
) -> Result<Rendered, AppError> {
    let post = posts::by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    // Drafts exist only for the admin.
    if !post.is_published() && !viewer.is_admin() {
        return Err(AppError::NotFound);
    }
    let at = post.published_at.unwrap_or(post.created_at);
    let mut context = page_context(viewer)?;
    context.insert(
        "canonical_url",
        &format!("{}/posts/{}", state.base_url, post.slug),
    );
    if viewer.is_admin() {
        context.insert("edit_url", &format!("/admin/posts/{}/edit", post.id));
    }
    context.insert(
        "post",
        &PostView {
            draft: !post.is_published(),
            title: post.title,
            body_html: post.body_html,
            published_human: human_date(at),
            published_iso: iso_date(at),
        },
    );
    let body = state.templates.render("blog/post.html", &context)?;
    Ok(Rendered {
        kind: ContentKind::Html,
        body,
    })
}

#[derive(Serialize)]
struct EntryView {
    title: String,
    url: String,
    published_iso: String,
    updated_iso: String,
    content_html: String,
}

async fn render_feed(state: &AppState) -> Result<Rendered, AppError> {
    let rows = posts::newest_published(&state.db, FEED_LEN).await?;
    let updated = rows.iter().map(|p| p.updated_at).max().unwrap_or(0);
    let entries: Vec<EntryView> = rows
        .into_iter()
        .map(|p| EntryView {
            url: format!("{}/posts/{}", state.base_url, p.slug),
            title: p.title,
            published_iso: iso_date(p.published_at.unwrap_or(p.created_at)),
            updated_iso: iso_date(p.updated_at),
            content_html: p.body_html,
        })
        .collect();
    let mut context = Context::new();
    context.insert("feed_title", SITE_TITLE);
    context.insert("feed_id", &format!("{}/", state.base_url));
    context.insert("self_url", &format!("{}/feed.xml", state.base_url));
    context.insert("home_url", &format!("{}/", state.base_url));
    context.insert("updated_iso", &iso_date(updated));
    context.insert("entries", &entries);
    let body = state.templates.render("blog/feed.xml", &context)?;
    Ok(Rendered {
        kind: ContentKind::Atom,
        body,
    })
}
