//! `/static/…`: the stylesheets, the editor's script and images, compiled
//! into the binary so folio runs from any directory, served with long-lived
//! cache headers.

use crate::cache::respond::client_has;
use crate::cache_control::CachePolicy;
use crate::http::get_or_head;
use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "css/site.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/css/site.css"),
    ),
    (
        "css/highlight.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/css/highlight.css"),
    ),
    (
        "js/editor.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/js/editor.js"),
    ),
    (
        "img/favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/img/favicon.svg"),
    ),
];

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/static/{path:.*}").route(get_or_head().to(asset)));
}

fn content_hash(bytes: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(bytes))
}

async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == path.as_str())
    else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let hash = content_hash(bytes);
    let cached = client_has(&req, &hash);
    let etag = EntityTag::new_strong(hash);
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    CachePolicy::Immutable
        .build(&mut response)
        .insert_header(header::ETag(etag));
    if cached {
        return response.finish();
    }
    response.content_type(*content_type).body(*bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Assets are `immutable` for a year, so a page must name a changed file
    /// by a new URL or returning readers keep the old one: the templates link
    /// each as `/static/{name}?v={first 8 hex digits of its content hash}`
    /// (every page's in base.html, the editor's script in admin/edit.html).
    #[test]
    fn templates_link_each_asset_by_its_current_version() {
        let templates = [
            include_str!("../../templates/base.html"),
            include_str!("../../templates/admin/edit.html"),
        ];
        for (name, _, bytes) in ASSETS {
            let href = format!("/static/{name}?v={}", &content_hash(bytes)[..8]);
            assert!(
                templates.iter().any(|t| t.contains(&format!("\"{href}\""))),
                "a template (base.html, admin/edit.html) must link {name} as {href}"
            );
        }
    }
}
