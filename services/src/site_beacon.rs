//! The site → hub beacon message (core NATS, JSON).

use serde::{Deserialize, Serialize};

/// Subject a site beacons on.
pub fn beacon_subject(site: &events::Token) -> String {
    format!("ef.hub.beacon.{site}")
}

/// Wildcard the hub listens on.
pub const BEACON_WILDCARD: &str = "ef.hub.beacon.*";

/// One beacon.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SiteBeacon {
    /// The site id.
    pub site: String,
    /// Last sequence of the site's own stream (for the hub's replication-lag figure).
    pub site_last_seq: u64,
    /// Site controller version.
    pub controller_version: String,
    /// Site wall clock when sent (may be skewed).
    pub unix_ms: u64,
    /// Node id → how many milliseconds ago the site last heard the node's heartbeat (relative, so skew-proof).
    #[serde(default)]
    pub node_heartbeat_ms_ago: std::collections::BTreeMap<String, u64>,
}

/// The beacon subject for a site id given as a string (the hub checks beacons arrive on their own site's subject).
pub fn beacon_subject_str(site: &str) -> String {
    format!("ef.hub.beacon.{site}")
}
