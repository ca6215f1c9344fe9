//! The public pages. Every cacheable URL goes through one handler: the URL
//! is parsed into a `Page` (or is a `404` that never touches the cache), and
//! the cache serves it, rendering from `pages` when it must.

use crate::auth::csrf;
use crate::auth::session::Viewer;
use crate::cache::policy::Audience;
use crate::cache::respond::{self, CacheStatus};
use crate::cache_control::CachePolicy;
use crate::compress::{self, Compressed};
use crate::error::AppError;
use crate::http::get_or_head;
use crate::pages::Admin;
use crate::posts;
use crate::request_class::{RequestClass, Target};
use crate::routes::assets;
use crate::state::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use std::sync::{Arc, Mutex};

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

/// The hit path, run before routing and before the middleware only other
/// requests need (sessions, the database guard, error pages): a cookieless
/// visitor's `GET` or `HEAD` of a page whose copy in process is under the
/// lease is answered here, exactly as `page` would answer it. Anything else
/// (a miss, no lease, an admin) goes on to `page`.
pub async fn local_hits(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let hit = RequestClass::with(req.request(), |class| {
        let page = class.visitor_page()?;
        let state = req.app_data::<web::Data<AppState>>()?;
        state.cache.local_hit(req.request(), page)
    });
    match hit {
        Some(response) => Ok(req.into_response(response).map_into_right_body()),
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

async fn page(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> HttpResponse {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    let Target::Public(_, Some(page)) = RequestClass::with(&req, |class| class.target.clone())
    else {
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
            let token = match csrf::token(&viewer.session()) {
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
    Ok(CachePolicy::PrivateNoStore
        .build(&mut HttpResponse::Ok())
        .insert_header(("x-robots-tag", "noindex"))
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// `robots.txt` as last made: it depends only on the base URL, so it is
/// compressed once, not per request.
type Robots = (String, String, Compressed);
static ROBOTS: Mutex<Option<Arc<Robots>>> = Mutex::new(None);

async fn robots(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let text = format!(
        "User-agent: *\nDisallow: /admin\nDisallow: /login\nDisallow: /debug\nDisallow: /preview\n\nSitemap: {}/sitemap.xml\n",
        state.pages.base_url
    );
    let robots = {
        let mut last = ROBOTS.lock().unwrap_or_else(|p| p.into_inner());
        match &*last {
            Some(robots) if robots.0 == text => robots.clone(),
            _ => {
                let hash = assets::content_hash(text.as_bytes());
                let compressed = Compressed::new(text.as_bytes(), compress::BR_BEST);
                let robots = Arc::new((text, hash, compressed));
                *last = Some(robots.clone());
                robots
            }
        }
    };
    let (text, hash, compressed) = &*robots;
    assets::precompressed(
        &req,
        hash,
        Bytes::copy_from_slice(text.as_bytes()),
        compressed,
        "text/plain; charset=utf-8",
        CachePolicy::PublicDay,
    )
}
