//! The hub's fleet view: every aggregate, replayed incrementally from the intent stream and every site copy.

use super::site_directory::SiteDirectory;
use events::subject;
use replay::{FleetState, Quarantine};
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::RwLock;

/// The replayed fleet, refreshed in the background.
#[derive(Default)]
pub struct FleetView {
    fleet: RwLock<FleetState>,
    quarantine: Quarantine,
}

impl FleetView {
    /// Runs `f` over the current fleet state (waits while a refresh applies new events).
    pub async fn with<R>(&self, f: impl FnOnce(&FleetState) -> R) -> R {
        f(&*self.fleet.read().await)
    }
}

impl FleetView {
    /// Applies whatever is new in the intent stream and every site copy.
    pub async fn catch_up(&self, directory: &SiteDirectory, js: &async_nats::jetstream::Context) {
        let mut streams = vec![subject::INTENT_STREAM.to_string()];
        streams.extend(directory.sites().iter().map(subject::site_stream));
        let mut fleet = self.fleet.write().await;
        if let Err(e) = replay::rebuild_streams(js, &streams, &mut fleet, &self.quarantine).await {
            tracing::warn!(error = %e, "fleet view not refreshed");
        }
    }
}

/// Catches the view up every 250 ms until aborted. Each round reads only what is new in each stream.
pub async fn follow(view: Rc<FleetView>, directory: Rc<SiteDirectory>, js: async_nats::jetstream::Context) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        view.catch_up(&directory, &js).await;
    }
}
