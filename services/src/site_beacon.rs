//! The site → hub beacon message (core NATS, JSON).

use events::Token;
use serde::{Deserialize, Serialize};

/// Subject a site beacons on.
pub fn beacon_subject(site: &Token) -> String {
    format!("ef.hub.beacon.{site}")
}

/// Wildcard the hub listens on.
pub const BEACON_WILDCARD: &str = "ef.hub.beacon.*";

/// Site ids no site may use: `all` is the fleet-wide intent scope, `hub` the hub's JetStream domain.
pub const RESERVED_SITE_IDS: [&str; 2] = ["all", "hub"];

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

/// The site a beacon speaks for: a valid, unreserved id that matches the subject it arrived on.
pub fn site_of_beacon(subject: &str, beacon: &SiteBeacon) -> Result<Token, String> {
    let site = Token::new(beacon.site.clone()).map_err(|e| e.to_string())?;
    if RESERVED_SITE_IDS.contains(&site.as_str()) {
        return Err(format!("site id {site} is reserved"));
    }
    if subject != beacon_subject(&site) {
        return Err(format!("beacon of {site} on a foreign subject"));
    }
    Ok(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beacon(site: &str) -> SiteBeacon {
        SiteBeacon {
            site: site.into(),
            site_last_seq: 0,
            controller_version: "0".into(),
            unix_ms: 0,
            node_heartbeat_ms_ago: Default::default(),
        }
    }

    #[test]
    fn reserved_foreign_and_invalid_beacons_are_refused() {
        assert!(site_of_beacon("ef.hub.beacon.s1", &beacon("s1")).is_ok());
        assert!(site_of_beacon("ef.hub.beacon.all", &beacon("all")).is_err());
        assert!(site_of_beacon("ef.hub.beacon.hub", &beacon("hub")).is_err());
        assert!(site_of_beacon("ef.hub.beacon.s2", &beacon("s1")).is_err());
        assert!(site_of_beacon("ef.hub.beacon.S1", &beacon("S1")).is_err());
    }
}
