//! Turns missing heartbeats into `NodeWentSilent` events (transitions only; heartbeats are not history).

use super::controller::SiteController;
use std::rc::Rc;
use std::time::Duration;

/// Checks for silent nodes once a second.
pub async fn watch(controller: Rc<SiteController>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let silent = controller.check_silence().await;
        if silent > 0 {
            tracing::info!(site = %controller.site(), silent, "nodes went silent");
        }
    }
}
