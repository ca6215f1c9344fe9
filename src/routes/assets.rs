//! `/static/…`: the stylesheets, the editor's script and images, compiled
//! into the binary so folio runs from any directory, served with long-lived
//! cache headers, compressed (brotli, gzip) once per process on first use.

use crate::cache::respond::{client_has, encoding_for};
use crate::cache_control::CachePolicy;
use crate::compress::{self, Compressed};
use crate::encoding::Encoding;
use crate::http::get_or_head;
use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use std::sync::LazyLock;

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

pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(bytes))
}

/// Each asset compressed at the best quality, in `ASSETS` order: once per
/// process, so no request pays for it after the first.
static COMPRESSED: LazyLock<Vec<Compressed>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|(_, _, bytes)| Compressed::new(bytes, compress::BR_BEST))
        .collect()
});

async fn asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(at) = ASSETS
        .iter()
        .position(|(name, _, _)| *name == path.as_str())
    else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let (_, content_type, bytes) = ASSETS[at];
    precompressed(
        &req,
        &content_hash(bytes),
        Bytes::from_static(bytes),
        &COMPRESSED[at],
        content_type,
        CachePolicy::Immutable,
    )
}

/// A body compressed ahead of time, in the encoding the request asks for,
/// with `Vary: Accept-Encoding` and an `ETag` per encoding (`hash` plus the
/// encoding's suffix); `304` when the client holds those bytes.
pub fn precompressed(
    req: &HttpRequest,
    hash: &str,
    plain: Bytes,
    compressed: &Compressed,
    content_type: &'static str,
    policy: CachePolicy,
) -> HttpResponse {
    let encoding = encoding_for(req);
    let tag = format!("{hash}{}", encoding.etag_suffix());
    let cached = client_has(req, &tag);
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    policy
        .build(&mut response)
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(header::ETag(EntityTag::new_strong(tag)));
    if cached {
        return response.finish();
    }
    let body = match encoding {
        Encoding::Br => compressed.br.clone(),
        Encoding::Gzip => compressed.gzip.clone(),
        Encoding::Identity => plain,
    };
    if let Some(coding) = encoding.header() {
        response.insert_header((header::CONTENT_ENCODING, coding));
    }
    response.content_type(content_type).body(body)
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
