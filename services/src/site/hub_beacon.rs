//! Tells the hub this site exists and how far its stream goes, once a second, over the leaf link (core NATS:
//! fire-and-forget, nothing queues while the link is down). The hub starts sourcing a site on its first beacon.

use super::cluster_runtime::ClusterRuntime;
use super::controller::SiteController;
use crate::site_beacon::{beacon_subject, SiteBeacon};
use events::subject;
use std::rc::Rc;
use std::time::Duration;

/// Sends beacons until aborted.
pub async fn beacon<R: ClusterRuntime>(
    controller: Rc<SiteController<R>>,
    client: async_nats::Client,
    js: async_nats::jetstream::Context,
) {
    let site = controller.site().clone();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let stream = subject::site_stream(&site);
    loop {
        tick.tick().await;
        let last_seq = match js.get_stream(&stream).await {
            Ok(mut s) => s.info().await.map(|i| i.state.last_sequence).unwrap_or(0),
            Err(_) => 0,
        };
        let beacon = SiteBeacon {
            site: site.to_string(),
            site_last_seq: last_seq,
            controller_version: env!("CARGO_PKG_VERSION").to_string(),
            unix_ms: actors::process_clock::system_wall_ms(),
            node_heartbeat_ms_ago: controller.heartbeat_ages_ms(),
        };
        let Ok(payload) = serde_json::to_vec(&beacon) else {
            continue;
        };
        if let Err(e) = client.publish(beacon_subject(&site), payload.into()).await {
            tracing::debug!(error = %e, "beacon not sent");
        }
    }
}
