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
pub mod written;

use actix_web::web;

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
