//! The public pages. Every cacheable URL goes through one handler: the URL
//! is parsed into a `Page` (or is a `404` that never touches the cache), and
//! the cache serves it, rendering from `pages` when it must.

use crate::auth::csrf;
use crate::auth::session::Viewer;
use crate::cache::keys::Page;
use crate::cache::policy::Audience;
use crate::cache::respond::{self, CacheStatus};
use crate::error::AppError;
use crate::http::get_or_head;
use crate::pages::Admin;
use crate::posts;
use crate::state::AppState;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};

pub fn config(cfg: &mut web::ServiceConfig) {
    for path in ["/", "/feed.xml", "/about", "/sitemap.xml"] {
        cfg.service(web::resource(path).to(page));
    }
    // Static prefixes rather than `/posts/{slug}`: dynamic segments are
    // matched with a regex, which showed up in profiles of the hit path.
    cfg.service(web::scope("/posts").default_service(web::to(page)))
        .service(web::scope("/tags").default_service(web::to(page)))
        .service(web::resource("/preview/{token}").route(get_or_head().to(preview)))
        .service(web::resource("/robots.txt").route(get_or_head().to(robots)));
}

async fn page(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> HttpResponse {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    let Some(page) = Page::parse(req.path(), req.query_string()) else {
        return respond::error(&AppError::NotFound, CacheStatus::Bypass);
    };
    match &viewer.identity {
        None => {
            state
                .cache
                .serve(&req, &page, Audience::Visitor, || {
                    state.pages.render(&page, None)
                })
                .await
        }
        Some(identity) => {
            let token = match csrf::token(&viewer.session) {
                Ok(token) => token,
                Err(e) => return respond::error(&e, CacheStatus::Bypass),
            };
            let admin = Admin {
                identity,
                csrf_token: &token,
            };
            state
                .cache
                .serve(&req, &page, Audience::Admin, || {
                    state.pages.render(&page, Some(admin))
                })
                .await
        }
    }
}

/// A post that is not live yet, for whoever holds its link: never cached,
/// never indexed.
async fn preview(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let post = posts::by_preview_token(&state.db, &token)
        .await?
        .ok_or(AppError::NotFound)?;
    if post.is_live() {
        return Ok(crate::http::see_other(&format!("/posts/{}", post.slug)));
    }
    let body = state.pages.preview(&post).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("x-robots-tag", "noindex"))
        .content_type("text/html; charset=utf-8")
        .body(body))
}

async fn robots(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .content_type("text/plain; charset=utf-8")
        .body(format!(
            "User-agent: *\nDisallow: /admin\nDisallow: /login\nDisallow: /debug\nDisallow: /preview\n\nSitemap: {}/sitemap.xml\n",
            state.pages.base_url
        ))
}
