//! Turns missing heartbeats into `NodeWentSilent` events (transitions only; heartbeats are not history).

use super::cluster_runtime::ClusterRuntime;
use super::controller::SiteController;
use std::rc::Rc;
use std::time::Duration;

/// Checks for silent nodes once a second.
pub async fn watch<R: ClusterRuntime>(controller: Rc<SiteController<R>>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let silent = controller.check_silence().await;
        if silent > 0 {
            tracing::info!(site = %controller.site(), silent, "nodes went silent");
        }
    }
}
