//! The process's projection at run time: restored from its snapshot, followed stream by stream, saved now and then
//! and at shutdown. The hub follows `EF_INTENT` and every site copy; a site follows its own stream and its copy of
//! the intents.

use replay::{LocalStore, Projection, Quarantine, StreamHomes};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

/// How often the projection is saved while it changes.
const SAVE_EVERY: Duration = Duration::from_secs(30);

/// A running projection and its follower tasks.
pub struct ProcessProjection {
    /// The projection.
    pub projection: Arc<Projection>,
    homes: StreamHomes,
    store: LocalStore,
    tasks: RefCell<Vec<actix_rt::task::JoinHandle<()>>>,
}

impl ProcessProjection {
    /// Restores the projection from `store` (snapshot + tail) and starts saving it.
    /// Every stream it will follow must already be placed in `homes`.
    pub async fn start(homes: StreamHomes, store: LocalStore, quarantine: Quarantine) -> anyhow::Result<Self> {
        let fleet = replay::restore_projection(&homes, &store).await?;
        tracing::info!(
            aggregates = fleet.aggregates.len(),
            streams = fleet.high_water.len(),
            "projection restored"
        );
        let projection = Projection::new(fleet, quarantine);
        let saver = actix_rt::spawn(save_periodically(projection.clone(), store.clone()));
        Ok(Self {
            projection,
            homes,
            store,
            tasks: RefCell::new(vec![saver]),
        })
    }

    /// Follows `stream` (once; later calls for the same stream do nothing).
    pub fn follow(&self, stream: &str) {
        if self.projection.claim(stream) {
            let task = replay::projection::follow(self.projection.clone(), self.homes.of(stream), stream.to_string());
            self.tasks.borrow_mut().push(actix_rt::spawn(task));
        }
    }

    /// Stops following and saves the projection.
    pub fn stop(&self) {
        for task in self.tasks.borrow_mut().drain(..) {
            task.abort();
        }
        save(&self.projection, &self.store);
    }
}

fn save(projection: &Projection, store: &LocalStore) {
    if let Err(e) = store.save_projection(&projection.snapshot()) {
        tracing::warn!(error = %e, "projection snapshot not saved");
    }
}

async fn save_periodically(projection: Arc<Projection>, store: LocalStore) {
    let mut saved_version = projection.version();
    loop {
        tokio::time::sleep(SAVE_EVERY).await;
        let version = projection.version();
        if version != saved_version {
            save(&projection, &store);
            saved_version = version;
        }
    }
}
