//! Builds the application from settings and runs it.

use crate::auth::session::{DbSessionStore, purge_expired};
use crate::auth::session_gate::SessionGate;
use crate::cache::policy::Ttls;
use crate::cache::{CacheConfig, PageCache};
use crate::cache_control::WriteCacheControl;
use crate::config::Settings;
use crate::error::AppError;
use crate::forms::BODY_LIMIT;
use crate::pages::Pages;
use crate::render::Templates;
use crate::request_class::{Classify, SESSION_COOKIE};
use crate::search::limit::SearchLimit;
use crate::state::AppState;
use crate::{auth, db, db_health, routes, scheduler, telemetry};
use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, ResponseError, web};
use anyhow::Context;
use rand::Rng;
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

const SESSION_KEY_MIN: usize = 64;

pub struct Application {
    port: u16,
    server: Server,
    cache: PageCache,
    db: db::Db,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = db::connect(&settings.database_url).await?;
        auth::ensure_admin(
            &db,
            settings.admin_username.as_deref(),
            settings.admin_password.as_ref(),
        )
        .await?;
        let key = session_key(&settings, &db).await?;
        let db_health = db_health::DbHealth::default();
        db_health.spawn_prober(settings.database_url.clone());

        let cache = PageCache::new(cache_config(&settings), db.clone(), db_health.clone())?;
        let templates = Arc::new(Templates::new()?);
        let pages = Arc::new(Pages {
            db: db.clone(),
            health: db_health.clone(),
            templates: templates.clone(),
            base_url: settings.base_url(),
        });
        cache.set_renderer(pages.clone());
        // Decide once before serving whether the cache can be used, so the
        // first requests do not bypass it needlessly; and put live what
        // became due while no instance was running.
        cache.reconcile().await;
        cache.spawn_reconciler();
        cache.edge().spawn(db.clone());
        scheduler::run_once(&db, &cache).await;
        scheduler::spawn(db.clone(), cache.clone());
        spawn_session_cleanup(db.clone());

        let state = web::Data::new(AppState {
            db: db.clone(),
            db_health,
            cache: cache.clone(),
            templates,
            pages,
            throttle: Default::default(),
            search_limit: SearchLimit::new(settings.search_rate),
            metrics: telemetry::metrics_handle(),
            media_files: Default::default(),
        });
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let secure = settings.secure_cookies();
        let store = DbSessionStore::new(db.clone());
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(BODY_LIMIT))
                .wrap(ErrorHandlers::new().default_handler(routes::errors::render))
                .wrap(SessionGate(
                    SessionMiddleware::builder(store.clone(), key.clone())
                        .cookie_name(SESSION_COOKIE.to_string())
                        .cookie_http_only(true)
                        .cookie_same_site(SameSite::Lax)
                        .cookie_secure(secure)
                        .cookie_content_security(CookieContentSecurity::Private)
                        .session_lifecycle(
                            BrowserSession::default()
                                .state_ttl(actix_web::cookie::time::Duration::hours(12)),
                        )
                        .build(),
                ))
                .wrap(from_fn(routes::db_guard::guard))
                .wrap(from_fn(routes::blog::local_hits))
                .wrap(WriteCacheControl)
                .wrap(from_fn(telemetry::observe))
                // Outermost: every layer above reads what this decided.
                .wrap(Classify)
                .configure(routes::config)
                .default_service(web::to(|| async { AppError::NotFound.error_response() }))
        })
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        let server = server.run();
        Ok(Application {
            port,
            server,
            cache,
            db,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn cache(&self) -> PageCache {
        self.cache.clone()
    }

    pub fn db(&self) -> db::Db {
        self.db.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

pub fn cache_config(settings: &Settings) -> CacheConfig {
    CacheConfig {
        prefix: settings.cache_prefix.clone(),
        redis_url: settings.redis_enabled().then(|| settings.redis_url.clone()),
        ttls: Ttls {
            index: settings.index_ttl,
            post: settings.post_ttl,
            page: settings.page_ttl,
        },
        rewarm: settings.rewarm_enabled(),
        edge: settings.edge_endpoints(),
        read_timeout: settings.redis_timeout(),
        write_timeout: settings.invalidation_timeout(),
        render_delay: Duration::from_millis(settings.render_delay_ms),
    }
}

/// The cookie key: from config, else generated once and kept in the
/// database so every instance and restart shares it.
async fn session_key(settings: &Settings, db: &db::Db) -> anyhow::Result<Key> {
    let secret = match &settings.session_key {
        Some(secret) => secret.expose_secret().to_string(),
        None => {
            db::setting_or_insert(db, "session_key", || {
                const ALPHABET: &[u8] =
                    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                let mut rng = rand::rng();
                (0..96)
                    .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                    .collect()
            })
            .await?
        }
    };
    anyhow::ensure!(
        secret.len() >= SESSION_KEY_MIN,
        "FOLIO_SESSION_KEY must be at least {SESSION_KEY_MIN} characters"
    );
    Ok(Key::from(secret.as_bytes()))
}

fn spawn_session_cleanup(db: db::Db) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = purge_expired(&db).await {
                tracing::warn!(error = %e, "cannot purge expired sessions");
            }
        }
    });
}
