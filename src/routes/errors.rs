//! Error pages: any error answer that is not already HTML (from `AppError`,
//! extractors or unknown routes) is rendered with `errors/error.html`. A
//! `404` also lists the newest posts, so a reader who followed a broken link
//! has somewhere to go.

use crate::error::{AppError, UserMessage};
use crate::posts;
use crate::render::base_context;
use crate::site;
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError, web};
use serde::Serialize;
use std::time::Duration;

/// How many posts a `404` suggests.
const RECENT_POSTS: i64 = 5;
/// The longest an error page waits for the database; past it the page is
/// shown without the site's title and the posts.
const DATABASE_WAIT: Duration = Duration::from_millis(300);

#[derive(Serialize)]
struct Link {
    title: String,
    url: String,
}

pub fn render<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"));
    // Redirects (303 to login), HTML answers (forms with 401/422) and JSON
    // answers (a refused upload from the editor's script) stay as they are.
    if is_html || !(status.is_client_error() || status.is_server_error()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    // Folio's own errors carry their message (`AppError::error_response`).
    let UserMessage { heading, message } = res
        .response()
        .extensions()
        .get::<UserMessage>()
        .cloned()
        .unwrap_or_else(|| UserMessage::for_status(status));
    let (req, response) = res.into_parts();
    let (mut head, _) = response.into_parts();
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let page = match req.app_data::<web::Data<AppState>>() {
            Some(state) => {
                let mut context = base_context(site::DEFAULT_TITLE, None);
                context.insert("status", &status.as_u16());
                context.insert("heading", &heading);
                context.insert("message", &message);
                add_from_database(state, status, &mut context).await;
                state.templates.render("errors/error.html", &context).ok()
            }
            None => None,
        };
        let (content_type, body) = match page {
            Some(html) => ("text/html; charset=utf-8", html),
            None => (
                "text/plain; charset=utf-8",
                format!("{heading}: {message}\n"),
            ),
        };
        head.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(content_type),
        );
        head.headers_mut().remove(header::CONTENT_LENGTH);
        let response = head
            .set_body(body)
            .map_into_boxed_body()
            .map_into_right_body();
        Ok(ServiceResponse::new(req, response))
    })))
}

/// The site's title and tagline on a client error, as on every other page,
/// and on a `404` the newest posts. Never on a server error, whose cause may
/// be the database itself; and left out if the database is slow or failing.
async fn add_from_database(state: &AppState, status: StatusCode, context: &mut tera::Context) {
    if !status.is_client_error() {
        return;
    }
    let read = async {
        let site = site::load(&state.db).await?;
        let recent = if status == StatusCode::NOT_FOUND {
            posts::published_page(&state.db, 1, RECENT_POSTS).await?
        } else {
            Vec::new()
        };
        Ok::<_, sqlx::Error>((site, recent))
    };
    match tokio::time::timeout(DATABASE_WAIT, read).await {
        Ok(Ok((site, recent))) => {
            context.insert("site_title", &site.title);
            context.insert("site_tagline", &site.tagline);
            let recent: Vec<Link> = recent
                .into_iter()
                .map(|p| Link {
                    url: format!("/posts/{}", p.slug),
                    title: p.title,
                })
                .collect();
            context.insert("recent_posts", &recent);
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "error page without the database"),
        Err(_) => tracing::warn!("error page without the database: timed out"),
    }
}

/// `e`'s answer as an HTML page, for middleware that runs outside
/// `ErrorHandlers` (headers and extensions kept).
pub fn page(state: &AppState, e: &AppError) -> HttpResponse {
    let response = e.error_response();
    let status = response.status();
    let UserMessage { heading, message } = e.user_message();
    match html(state, status, heading, &message) {
        Some(body) => {
            let mut response = response.set_body(BoxBody::new(body));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
        None => response,
    }
}

fn html(state: &AppState, status: StatusCode, heading: &str, message: &str) -> Option<String> {
    let mut context = base_context(site::DEFAULT_TITLE, None);
    context.insert("status", &status.as_u16());
    context.insert("heading", heading);
    context.insert("message", message);
    state.templates.render("errors/error.html", &context).ok()
}
