//! What every handler shares, built once before the server starts.

use crate::auth::throttle::LoginThrottle;
use crate::cache::PageCache;
use crate::db::Db;
use crate::db_health::DbHealth;
use crate::media::hot::HotFiles;
use crate::pages::Pages;
use crate::render::Templates;
use crate::search::limit::SearchLimit;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

pub struct AppState {
    pub db: Db,
    /// Whether the database is marked down (see `db_health`).
    pub db_health: DbHealth,
    pub cache: PageCache,
    pub templates: Arc<Templates>,
    /// Renders the public pages (shared with the cache, to re-warm them).
    pub pages: Arc<Pages>,
    pub throttle: LoginThrottle,
    pub search_limit: SearchLimit,
    pub metrics: Option<PrometheusHandle>,
    /// The media files read most recently (bounded, see `media::hot`).
    pub media_files: HotFiles,
}
