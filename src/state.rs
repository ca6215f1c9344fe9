//! What every handler shares, built once before the server starts.

use crate::auth::throttle::LoginThrottle;
use crate::cache::PageCache;
use crate::db::Db;
use crate::render::Templates;
use metrics_exporter_prometheus::PrometheusHandle;

pub struct AppState {
    pub db: Db,
    pub cache: PageCache,
    pub templates: Templates,
    /// Public origin without a trailing slash, from config only.
    pub base_url: String,
    pub throttle: LoginThrottle,
    pub metrics: Option<PrometheusHandle>,
}
