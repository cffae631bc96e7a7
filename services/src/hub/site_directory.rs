//! The sites the hub knows: found from the sourced copies it already holds and from site beacons. The first
//! beacon of a new site makes the hub source that site's stream — no per-site configuration.

use crate::site_beacon::{SiteBeacon, BEACON_WILDCARD};
use events::{subject, Token};
use futures::{StreamExt, TryStreamExt};
use replay::StreamPolicy;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Instant;

/// A site is connected if a beacon arrived within this many milliseconds.
pub const CONNECTED_WITHIN_MS: u64 = 3_000;

/// What the hub knows of one site's link.
#[derive(Clone, Debug, Default)]
pub struct SiteLink {
    /// When the last beacon arrived (hub clock; site clocks may be skewed).
    pub last_seen: Option<Instant>,
    /// Hub wall time of the last beacon, for display.
    pub last_seen_unix_ms: Option<u64>,
    /// The site's own last stream sequence, per its last beacon.
    pub site_last_seq: u64,
    /// Node id → ms since the site last heard it, per the last beacon.
    pub node_heartbeat_ms_ago: BTreeMap<String, u64>,
}

/// One row of `sites ls`.
#[derive(Clone, Debug, Serialize)]
pub struct SiteRow {
    /// Site id.
    pub site: String,
    /// `connected`, `disconnected` or `unknown` (not heard since the hub started).
    pub connection: &'static str,
    /// Hub wall time of the last beacon (ms since the epoch).
    pub last_seen_unix_ms: Option<u64>,
    /// Site events not yet copied to the hub, as of the site's last beacon; while the site is disconnected it
    /// may have written more since (a lower bound).
    pub replication_lag: u64,
    /// Site events the hub holds.
    pub copied_events: u64,
}

/// All sites known to the hub.
pub struct SiteDirectory {
    js: async_nats::jetstream::Context,
    policy: StreamPolicy,
    sites: RefCell<BTreeMap<Token, SiteLink>>,
}

impl SiteDirectory {
    /// Loads the sites whose copies already exist (after a hub restart).
    pub async fn load(js: async_nats::jetstream::Context, policy: StreamPolicy) -> anyhow::Result<Self> {
        let names: Vec<String> = js.stream_names().try_collect().await?;
        let sites = names
            .iter()
            .filter_map(|n| n.strip_prefix("EF_SITE_"))
            .filter_map(|s| Token::new(s).ok())
            .map(|s| (s, SiteLink::default()))
            .collect();
        Ok(Self {
            js,
            policy,
            sites: RefCell::new(sites),
        })
    }

    /// Every known site.
    pub fn sites(&self) -> Vec<Token> {
        self.sites.borrow().keys().cloned().collect()
    }

    /// True if the site's last beacon is recent.
    pub fn is_connected(&self, site: &Token) -> bool {
        self.sites
            .borrow()
            .get(site)
            .and_then(|link| link.last_seen)
            .is_some_and(|at| (at.elapsed().as_millis() as u64) < CONNECTED_WITHIN_MS)
    }

    /// The link state of one site.
    pub fn link(&self, site: &Token) -> Option<SiteLink> {
        self.sites.borrow().get(site).cloned()
    }

    async fn on_beacon(&self, beacon: SiteBeacon) {
        let Ok(site) = Token::new(beacon.site.clone()) else {
            return tracing::warn!(site = %beacon.site, "beacon with an invalid site id ignored");
        };
        let known = self.sites.borrow().contains_key(&site);
        if !known {
            match replay::ensure_hub_copy_of_site(&self.js, &site, &self.policy).await {
                Ok(()) => tracing::info!(%site, "new site: sourcing its stream"),
                Err(e) => return tracing::error!(%site, error = %e, "cannot source the new site's stream"),
            }
        }
        let mut sites = self.sites.borrow_mut();
        let link = sites.entry(site).or_default();
        link.last_seen = Some(Instant::now());
        link.last_seen_unix_ms = Some(actors::process_clock::system_wall_ms());
        link.site_last_seq = beacon.site_last_seq;
        link.node_heartbeat_ms_ago = beacon.node_heartbeat_ms_ago;
    }

    /// Rows for `sites ls`.
    pub async fn rows(&self) -> Vec<SiteRow> {
        let mut rows = Vec::new();
        for site in self.sites() {
            let link = self.link(&site).unwrap_or_default();
            let status = replay::source_status(&self.js, &subject::site_stream(&site))
                .await
                .ok()
                .flatten();
            let copied = status.as_ref().map_or(0, |s| s.copied_messages);
            let connection = match link.last_seen {
                None => "unknown",
                Some(at) if (at.elapsed().as_millis() as u64) < CONNECTED_WITHIN_MS => "connected",
                Some(_) => "disconnected",
            };
            let lag = link
                .site_last_seq
                .saturating_sub(copied)
                .max(status.map_or(0, |s| s.lag));
            rows.push(SiteRow {
                site: site.to_string(),
                connection,
                last_seen_unix_ms: link.last_seen_unix_ms,
                replication_lag: lag,
                copied_events: copied,
            });
        }
        rows
    }
}

/// Listens for site beacons until aborted.
pub async fn listen(directory: std::rc::Rc<SiteDirectory>, client: async_nats::Client) {
    let mut beacons = match client.subscribe(BEACON_WILDCARD).await {
        Ok(subscription) => subscription,
        Err(e) => return tracing::error!(error = %e, "cannot subscribe to site beacons"),
    };
    while let Some(message) = beacons.next().await {
        match serde_json::from_slice::<SiteBeacon>(&message.payload) {
            Ok(beacon) if message.subject.as_str() == crate::site_beacon::beacon_subject_str(&beacon.site) => {
                directory.on_beacon(beacon).await
            }
            Ok(beacon) => {
                tracing::warn!(subject = %message.subject, site = %beacon.site, "beacon on a foreign subject")
            }
            Err(e) => tracing::warn!(subject = %message.subject, error = %e, "malformed beacon"),
        }
    }
}
