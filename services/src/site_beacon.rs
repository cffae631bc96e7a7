//! The site → hub beacon message (core NATS, JSON).

use serde::{Deserialize, Serialize};

/// Subject a site beacons on (`ef.hub.beacon.<site>`): the one subject besides its stream's that its leaf
/// credential may publish to the hub.
pub use fleet_trust::beacon_subject;

/// Site ids no site may use: `all` is the fleet-wide intent scope, `hub` the hub's JetStream domain, `fleet` the
/// prefix of the hub's JetStream API as each site's account imports it.
pub const RESERVED_SITE_IDS: [&str; 3] = ["all", "hub", "fleet"];

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
