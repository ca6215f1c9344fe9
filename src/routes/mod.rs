//! HTTP routes; each module owns its `config`.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod blog;
pub mod db_guard;
pub mod debug;
pub mod editor;
pub mod errors;
pub mod health;
pub mod media;
pub mod media_admin;
pub mod search;
pub mod settings;

use crate::cache_control::CachePolicy;
use crate::http::see_other;
use crate::write::Committed;
use actix_web::{HttpResponse, web};

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.configure(blog::config)
        .configure(auth::config)
        .configure(admin::config)
        .configure(editor::config)
        .configure(search::config)
        .configure(settings::config)
        .configure(media::config)
        .configure(media_admin::config)
        .configure(debug::config)
        .configure(health::config)
        .configure(assets::config);
}

/// The answer to a committed write from a form: `303` to `location`, or,
/// when an edge cache did not confirm its purge, `202` with a page saying
/// the change is saved and the purge is being retried (after a `303` SPEC
/// promises the edge shows no old content, which is not known yet). The
/// page needs no database: it is most likely right after the connection
/// dropped.
pub(crate) fn after_write(committed: &Committed, location: &str) -> HttpResponse {
    if committed.edge_confirmed {
        return see_other(location);
    }
    // A path folio built (a slug or a fixed path); escaped all the same.
    let href = location
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    CachePolicy::NoStore
        .build(&mut HttpResponse::Accepted())
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"robots\" content=\"noindex\">\n<title>Saved; edge purge pending</title>\n\
             </head>\n<body>\n<main>\n<h1>Saved</h1>\n\
             <p>Your change is saved. The edge cache has not confirmed the purge of \
             the old pages yet; folio keeps retrying, and until it succeeds some \
             visitors may still see the previous version.</p>\n\
             <p><a href=\"{href}\">Continue</a></p>\n</main>\n</body>\n</html>\n"
        ))
}
