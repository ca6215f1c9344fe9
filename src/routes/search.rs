//! `GET /search?q=…&page=N`: full-text search over live posts.
//!
//! Search pages are never cached (`private, no-store`): each is read from
//! the index the last write committed, so after a write's `303` every
//! instance shows the posts as they are now, and a burst of distinct queries
//! cannot push the blog's own pages out of Redis. What keeps that cheap is
//! the index and the per-client limit (`search::limit`).

use crate::auth::csrf;
use crate::auth::session::Viewer;
use crate::cache::keys::page_number;
use crate::error::AppError;
use crate::http::{client_ip, encode_query_value, get_or_head};
use crate::listing::page_count;
use crate::render::{base_context, human_date, iso_date};
use crate::search::Query;
use crate::search::find::{self, Found};
use crate::state::AppState;
use crate::{posts, site};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use std::borrow::Cow;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/search").route(get_or_head().to(search)));
}

#[derive(Serialize)]
struct ResultView {
    title: String,
    url: String,
    published_human: String,
    published_iso: String,
    tags: Vec<String>,
    /// Escaped, with `<mark>`s.
    snippet_html: String,
}

async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, AppError> {
    let raw = query_value(req.query_string(), "q")?.unwrap_or_default();
    // A `page` that is not a positive integer, like on the index.
    let page = page_number(req.query_string()).ok_or(AppError::NotFound)?;
    let query = Query::parse(&raw);
    if !query.is_empty()
        && let Err(wait) = state.search_limit.take(client_ip(&req))
    {
        return Err(AppError::TooManySearches {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        });
    }
    let found = find::search(&state.db, &query, page).await?;
    let pages = page_count(found.total);
    if i64::from(page) > pages {
        return Err(AppError::NotFound);
    }
    let site = site::load(&state.db).await?;
    let token = match &viewer.identity {
        Some(_) => Some(csrf::token(&viewer.session())?),
        None => None,
    };
    let admin = viewer.identity.as_ref().zip(token.as_deref());
    let mut context = base_context(&site.title, admin);
    context.insert("site_tagline", &site.tagline);
    // What the visitor typed, shown back (escaped by the template).
    let shown: String = raw
        .trim()
        .chars()
        .take(crate::search::QUERY_MAX_CHARS)
        .collect();
    context.insert("search_query", &shown);
    context.insert("searched", &!shown.is_empty());
    context.insert("total", &found.total);
    context.insert("page", &page);
    context.insert("total_pages", &pages);
    let page_url = |n: u32| {
        let q = encode_query_value(&shown);
        match n {
            1 => format!("/search?q={q}"),
            n => format!("/search?q={q}&page={n}"),
        }
    };
    context.insert(
        "prev_url",
        &(if page > 1 {
            page_url(page - 1)
        } else {
            String::new()
        }),
    );
    context.insert(
        "next_url",
        &(if i64::from(page) < pages {
            page_url(page + 1)
        } else {
            String::new()
        }),
    );
    context.insert("results", &results(&state, found).await?);
    let body = state.templates.render("blog/search.html", &context)?;
    // Never stored anywhere: `private, no-store`, the default policy.
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

async fn results(state: &AppState, found: Found) -> Result<Vec<ResultView>, AppError> {
    let ids: Vec<i64> = found.hits.iter().map(|h| h.id).collect();
    let mut conn = state.db.acquire().await?;
    let mut tags = posts::tags_of_many(&mut conn, &ids).await?;
    Ok(found
        .hits
        .into_iter()
        .map(|h| ResultView {
            url: format!("/posts/{}", h.slug),
            tags: tags.remove(&h.id).unwrap_or_default(),
            published_human: human_date(h.published_at),
            published_iso: iso_date(h.published_at),
            title: h.title,
            snippet_html: h.snippet_html,
        })
        .collect())
}

/// The value of `name` in a query string, percent-decoded; `400` when it is
/// not valid UTF-8 (decoding it lossily would search for other words than
/// the ones sent).
fn query_value(query: &str, name: &str) -> Result<Option<String>, AppError> {
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(key).as_deref() != Ok(name) {
            continue;
        }
        return decode(value)
            .map(|v| Some(v.into_owned()))
            .map_err(|_| AppError::BadRequest("The search is not valid UTF-8 text.".to_string()));
    }
    Ok(None)
}

fn decode(part: &str) -> Result<Cow<'_, str>, std::str::Utf8Error> {
    let spaced: Cow<str> = if part.contains('+') {
        Cow::Owned(part.replace('+', " "))
    } else {
        Cow::Borrowed(part)
    };
    match spaced {
        Cow::Borrowed(s) => percent_encoding::percent_decode_str(s).decode_utf8(),
        Cow::Owned(s) => percent_encoding::percent_decode_str(&s)
            .decode_utf8()
            .map(|d| Cow::Owned(d.into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_decoded_strictly() {
        assert_eq!(
            query_value("page=2&q=caf%C3%A9+au+lait", "q").unwrap(),
            Some("café au lait".to_string())
        );
        assert_eq!(query_value("page=2", "q").unwrap(), None);
        assert_eq!(query_value("q", "q").unwrap(), Some(String::new()));
        assert!(query_value("q=%FF%FE", "q").is_err());
        // Another parameter's bytes do not matter.
        assert_eq!(
            query_value("x=%FF&q=a", "q").unwrap(),
            Some("a".to_string())
        );
    }
}
