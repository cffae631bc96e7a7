//! Tells the hub this site exists and how far its stream goes, once a second, over the leaf link (core NATS:
//! fire-and-forget, nothing queues while the link is down). The hub starts sourcing a site on its first beacon.

use super::observer::SiteObserver;
use crate::site_beacon::{beacon_subject, SiteBeacon};
use events::{subject, Token};
use replay::Projection;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Sends beacons until aborted.
pub async fn beacon(site: Token, observer: Rc<SiteObserver>, projection: Arc<Projection>, client: async_nats::Client) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let stream = subject::site_stream(&site);
    loop {
        tick.tick().await;
        let beacon = SiteBeacon {
            site: site.to_string(),
            site_last_seq: projection.high_water(&stream),
            controller_version: env!("CARGO_PKG_VERSION").to_string(),
            unix_ms: actors::process_clock::system_wall_ms(),
            node_heartbeat_ms_ago: observer.heartbeat_ages_ms(),
        };
        let Ok(payload) = serde_json::to_vec(&beacon) else {
            continue;
        };
        if let Err(e) = client.publish(beacon_subject(&site), payload.into()).await {
            tracing::debug!(error = %e, "beacon not sent");
        }
    }
}
