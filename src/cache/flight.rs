//! Single-flight: concurrent misses of one page wait for one render.
//! Joining is keyed by the generation the miss saw, so a request that starts
//! after a write never receives a render that began before it.

use super::PageCache;
use super::entry::{Entry, Rendered};
use super::keys::Page;
use crate::error::AppError;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The page, and whether it was stored (so is known current).
type Outcome = Result<(Arc<Entry>, bool), Arc<AppError>>;
type FlightKey = (String, String);

#[derive(Default)]
pub struct Flights(Mutex<HashMap<FlightKey, Arc<OnceCell<Outcome>>>>);

impl PageCache {
    /// Renders a missed page once per instance and generation, and fills it.
    pub(super) async fn render_once<F, Fut>(
        &self,
        page: &Page,
        generation: String,
        epoch: u64,
        render: F,
    ) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Rendered, AppError>>,
    {
        let key = self.0.keys.view(page);
        let flight_key = (key, generation.clone());
        let cell = {
            let mut flights = self.0.flights.0.lock().unwrap_or_else(|p| p.into_inner());
            // A render of this generation may have finished between our miss
            // and now (it stores its copy before leaving the map): its result
            // is as fresh as the one we would make.
            let done =
                super::parse_hex(&generation).and_then(|g| self.0.local.of_generation(page, g));
            if let Some(entry) = done {
                return Ok((entry, true));
            }
            flights.entry(flight_key.clone()).or_default().clone()
        };
        let outcome = cell
            .get_or_init(|| async {
                match self.render_now(render, Some(epoch)).await {
                    Ok(entry) => {
                        let stored = self.fill(page, &generation, &entry).await;
                        Ok((entry, stored))
                    }
                    Err(e) => {
                        if !matches!(*e, AppError::NotFound) {
                            tracing::error!(error = ?e, "render failed");
                        }
                        Err(e)
                    }
                }
            })
            .await
            .clone();
        let mut flights = self.0.flights.0.lock().unwrap_or_else(|p| p.into_inner());
        if flights
            .get(&flight_key)
            .is_some_and(|c| Arc::ptr_eq(c, &cell))
        {
            flights.remove(&flight_key);
        }
        outcome
    }
}
