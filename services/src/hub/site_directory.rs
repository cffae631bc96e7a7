//! The sites the hub knows: found from the sourced copies it already holds and from site beacons. The first
//! beacon of a new site makes the hub source that site's stream and follow the copy in its projection — no
//! per-site configuration. Links (when each site was last heard, how far its stream goes) are observations in
//! memory: liveness is not history, and a restarted hub hears every connected site again within a second.

use crate::process_projection::ProcessProjection;
use crate::site_beacon::{SiteBeacon, BEACON_WILDCARD};
use events::{subject, Token};
use futures::{StreamExt, TryStreamExt};
use replay::StreamPolicy;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
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

impl SiteLink {
    /// True if the last beacon is recent.
    pub fn connected(&self) -> bool {
        self.last_seen
            .is_some_and(|at| (at.elapsed().as_millis() as u64) < CONNECTED_WITHIN_MS)
    }

    /// Milliseconds since the site last heard `node`, as of now.
    pub fn heartbeat_age_ms(&self, node: &str) -> Option<u64> {
        let at_beacon = self.node_heartbeat_ms_ago.get(node)?;
        Some(at_beacon + self.last_seen.map_or(0, |t| t.elapsed().as_millis() as u64))
    }
}

/// All sites known to the hub.
pub struct SiteDirectory {
    js: async_nats::jetstream::Context,
    policy: StreamPolicy,
    projection: Rc<ProcessProjection>,
    sites: RefCell<BTreeMap<Token, SiteLink>>,
}

impl SiteDirectory {
    /// Loads the sites whose copies already exist (after a hub restart) and follows each copy.
    pub async fn load(
        js: async_nats::jetstream::Context,
        policy: StreamPolicy,
        projection: Rc<ProcessProjection>,
    ) -> anyhow::Result<Self> {
        let names: Vec<String> = js.stream_names().try_collect().await?;
        let sites: BTreeMap<Token, SiteLink> = names
            .iter()
            .filter_map(|n| subject::site_of_stream(n))
            .map(|s| (s, SiteLink::default()))
            .collect();
        for site in sites.keys() {
            projection.follow(&subject::site_stream(site));
        }
        Ok(Self {
            js,
            policy,
            projection,
            sites: RefCell::new(sites),
        })
    }

    /// Every known site.
    pub fn sites(&self) -> Vec<Token> {
        self.sites.borrow().keys().cloned().collect()
    }

    /// True if the hub knows the site.
    pub fn knows(&self, site: &Token) -> bool {
        self.sites.borrow().contains_key(site)
    }

    /// Sites whose last beacon is recent.
    pub fn online(&self) -> BTreeSet<Token> {
        self.sites
            .borrow()
            .iter()
            .filter(|(_, link)| link.connected())
            .map(|(site, _)| site.clone())
            .collect()
    }

    /// The link state of one site.
    pub fn link(&self, site: &Token) -> Option<SiteLink> {
        self.sites.borrow().get(site).cloned()
    }

    async fn on_beacon(&self, site: Token, beacon: SiteBeacon) {
        if !self.knows(&site) {
            match replay::ensure_hub_copy_of_site(&self.js, &site, &self.policy).await {
                Ok(()) => tracing::info!(%site, "new site: sourcing its stream"),
                Err(e) => return tracing::error!(%site, error = %e, "cannot source the new site's stream"),
            }
            self.projection.follow(&subject::site_stream(&site));
        } else if !self.link(&site).is_some_and(|link| link.connected()) {
            // Back after a cut or a hub restart: copy now rather than after the server's retry backoff.
            let stream = subject::site_stream(&site);
            match replay::resume_source(&self.js, &stream).await {
                Ok(_) => tracing::info!(%site, "site link up: its copy resumes"),
                Err(e) => tracing::warn!(%site, error = %e, "copy not resumed; the server retries on its own"),
            }
        }
        let mut sites = self.sites.borrow_mut();
        let link = sites.entry(site).or_default();
        link.last_seen = Some(Instant::now());
        link.last_seen_unix_ms = Some(actors::process_clock::system_wall_ms());
        link.site_last_seq = beacon.site_last_seq;
        link.node_heartbeat_ms_ago = beacon.node_heartbeat_ms_ago;
    }
}

/// Listens for site beacons until aborted.
pub async fn listen(directory: Rc<SiteDirectory>, client: async_nats::Client) {
    let mut beacons = match client.subscribe(BEACON_WILDCARD).await {
        Ok(subscription) => subscription,
        Err(e) => return tracing::error!(error = %e, "cannot subscribe to site beacons"),
    };
    while let Some(message) = beacons.next().await {
        match serde_json::from_slice::<SiteBeacon>(&message.payload) {
            Ok(beacon) => match crate::site_beacon::site_of_beacon(message.subject.as_str(), &beacon) {
                Ok(site) => directory.on_beacon(site, beacon).await,
                Err(why) => tracing::warn!(subject = %message.subject, %why, "beacon refused"),
            },
            Err(e) => tracing::warn!(subject = %message.subject, error = %e, "malformed beacon"),
        }
    }
}
