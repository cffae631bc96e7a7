//! The sites the hub knows: the ones the fleet's trust root holds an account for (`edgefleet sites add`), each
//! reached through the hub's own connection into that account. For each site the hub keeps a copy of its stream
//! (sourced over the site's leaf link), follows the copy in its projection, and answers its beacons. Links (when
//! each site was last heard, how far its stream goes) are observations in memory: liveness is not history, and a
//! restarted hub hears every connected site again within a second.
//!
//! A beacon can only come from the site itself: only that site's leaf credential may publish on its beacon subject
//! in its account, and the hub listens for each site on that site's account alone.

use super::copy_watch::{self, CopyHealth, CopyProgress};
use super::site_accounts::{self, SiteAccount};
use super::trust_replica::TrustReplica;
use crate::leadership::Leadership;
use crate::process_projection::ProcessProjection;
use crate::site_beacon::{beacon_subject, SiteBeacon};
use events::{subject, Token};
use fleet_trust::{ServerNames, SiteBundle, TrustRoot};
use futures::StreamExt;
use replay::{StreamHomes, StreamPolicy};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
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
    /// True once the site's credentials were revoked (`edgefleet sites revoke`).
    pub revoked: bool,
    /// How far the hub's copy of the site's stream went, and when it last moved.
    pub copy: Option<CopyProgress>,
    /// The site came back while this hub did not run the orchestrator (e.g. in its first moments after a
    /// restart): its copy is resumed at the first beacon heard once it does.
    pub resume_pending: bool,
}

impl SiteLink {
    /// True if the last beacon is recent.
    pub fn connected(&self) -> bool {
        self.last_seen
            .is_some_and(|at| (at.elapsed().as_millis() as u64) < CONNECTED_WITHIN_MS)
    }

    /// How the hub's copy of the site's stream is doing, now that it holds `copied`.
    pub fn copy_health(&self, copied: u64) -> CopyHealth {
        let now = Instant::now();
        CopyProgress::observe(self.copy, copied, now).health(self.site_last_seq, self.connected(), now)
    }

    /// Milliseconds since the site last heard `node`, as of now.
    pub fn heartbeat_age_ms(&self, node: &str) -> Option<u64> {
        let at_beacon = self.node_heartbeat_ms_ago.get(node)?;
        Some(at_beacon + self.last_seen.map_or(0, |t| t.elapsed().as_millis() as u64))
    }
}

/// How the hub reaches its own server.
#[derive(Clone)]
pub struct HubAccess {
    /// The hub server's client URL.
    pub url: String,
    /// The CA its certificate is checked against.
    pub ca: PathBuf,
    /// A system-account connection: pushes account JWTs.
    pub system: async_nats::Client,
}

/// All sites known to the hub.
pub struct SiteDirectory {
    trust: Rc<TrustRoot>,
    access: HubAccess,
    policy: StreamPolicy,
    homes: StreamHomes,
    projection: Rc<ProcessProjection>,
    leadership: Rc<Leadership>,
    replica: Rc<TrustReplica>,
    accounts: RefCell<BTreeMap<Token, SiteAccount>>,
    /// Sites being added by a request on this hub right now (a rescan leaves them to it).
    adding: RefCell<BTreeSet<Token>>,
    links: RefCell<BTreeMap<Token, SiteLink>>,
    listeners: RefCell<Vec<actix_rt::task::JoinHandle<()>>>,
    /// When this hub started hearing beacons (a site heard of since counts as offline from then).
    started: std::time::Instant,
}

/// What this hub shares with the other hubs of its cluster: whether it runs the single-writer loops, and the
/// trust changes.
pub struct ClusterRoles {
    /// Whether this hub holds the orchestrator lease.
    pub leadership: Rc<Leadership>,
    /// The shared trust.
    pub replica: Rc<TrustReplica>,
}

/// Connects into the account of every site the trust root holds and places each site's copy in `homes`, so the
/// projection can be restored before anything follows it.
pub async fn connect_accounts(
    trust: &TrustRoot,
    access: &HubAccess,
    homes: &StreamHomes,
) -> anyhow::Result<Vec<SiteAccount>> {
    let mut accounts = Vec::new();
    for record in trust.sites()? {
        let account = site_accounts::connect(&access.url, &access.ca, trust, &record.site).await?;
        homes.place(&subject::site_stream(&record.site), account.js.clone());
        accounts.push(account);
    }
    Ok(accounts)
}

impl SiteDirectory {
    /// The directory of `accounts` (from [`connect_accounts`]): each site's copy ensured and followed, each site's
    /// beacons answered.
    pub async fn start(
        trust: Rc<TrustRoot>,
        access: HubAccess,
        policy: StreamPolicy,
        homes: StreamHomes,
        projection: Rc<ProcessProjection>,
        accounts: Vec<SiteAccount>,
        cluster: ClusterRoles,
    ) -> anyhow::Result<Rc<Self>> {
        let ClusterRoles { leadership, replica } = cluster;
        let directory = Rc::new(Self {
            trust,
            access,
            policy,
            homes,
            projection,
            leadership,
            replica,
            accounts: RefCell::default(),
            adding: RefCell::default(),
            links: RefCell::default(),
            listeners: RefCell::default(),
            started: std::time::Instant::now(),
        });
        for account in accounts {
            directory.attach(account).await?;
        }
        Ok(directory)
    }

    /// Starts keeping, following and hearing `account`'s site.
    async fn attach(self: &Rc<Self>, account: SiteAccount) -> anyhow::Result<()> {
        let site = account.site.clone();
        if self.knows(&site) {
            return Ok(());
        }
        replay::ensure_hub_copy_of_site(&account.js, &site, &self.policy).await?;
        telemetry::telemetry_streams::ensure_hub_telemetry_copy(
            &account.js,
            &site,
            telemetry::TelemetryLimits::default(),
        )
        .await?;
        let stream = subject::site_stream(&site);
        self.homes.place(&stream, account.js.clone());
        self.projection.follow(&stream);
        let revoked = self.trust.site_record(&site)?.is_some_and(|r| r.revoked_at_s.is_some());
        self.links.borrow_mut().entry(site.clone()).or_default().revoked = revoked;
        self.accounts.borrow_mut().insert(site, account.clone());
        let listener = actix_rt::spawn(listen(self.clone(), account));
        self.listeners.borrow_mut().push(listener);
        Ok(())
    }

    /// Adds `site` to the fleet: its account (pushed to the server at once), the hub's copy of its stream, and the
    /// bundle its server needs (leaf credential, certificates valid for `names` and localhost).
    pub async fn add(self: &Rc<Self>, site: &Token, names: &ServerNames) -> anyhow::Result<SiteBundle> {
        let change = self.replica.begin().await?;
        self.adding.borrow_mut().insert(site.clone());
        let added = self.add_now(site, names).await;
        self.adding.borrow_mut().remove(site);
        self.replica.finish(change).await?;
        added
    }

    async fn add_now(self: &Rc<Self>, site: &Token, names: &ServerNames) -> anyhow::Result<SiteBundle> {
        let issue = self.trust.add_site(site, names)?;
        fleet_trust::push_account_jwt(&self.access.system, &issue.account_jwt).await?;
        let account = site_accounts::connect(&self.access.url, &self.access.ca, &self.trust, site).await?;
        self.attach(account).await?;
        tracing::info!(%site, "site added");
        Ok(issue.bundle)
    }

    /// A new bundle for `site`; every earlier leaf credential of the site is revoked (and a revoked site is let
    /// back in with the new one).
    pub async fn rotate(&self, site: &Token, names: &ServerNames) -> anyhow::Result<SiteBundle> {
        let change = self.replica.begin().await?;
        let rotated = self.trust.rotate_site(site, names);
        self.replica.finish(change).await?;
        let (account_jwt, bundle) = rotated?;
        fleet_trust::push_account_jwt(&self.access.system, &account_jwt).await?;
        if let Some(link) = self.links.borrow_mut().get_mut(site) {
            link.revoked = false;
        }
        tracing::info!(%site, "site credentials rotated");
        Ok(bundle)
    }

    /// Cuts `site` off: its leaf credentials are revoked and its link closed by the server; its history stays.
    pub async fn revoke(&self, site: &Token) -> anyhow::Result<()> {
        let change = self.replica.begin().await?;
        let revoked = self.trust.revoke_site(site);
        self.replica.finish(change).await?;
        let account_jwt = revoked?;
        fleet_trust::push_account_jwt(&self.access.system, &account_jwt).await?;
        if let Some(link) = self.links.borrow_mut().get_mut(site) {
            link.revoked = true;
            link.last_seen = None;
        }
        tracing::warn!(%site, "site revoked");
        Ok(())
    }

    /// Picks up what another hub of the cluster changed in the shared trust: attaches sites added there, marks
    /// sites revoked or let back in there, and pushes the account JWTs to this hub's server (the cluster's
    /// resolvers share them too; pushing again changes nothing).
    pub async fn rescan(self: &Rc<Self>) -> anyhow::Result<()> {
        for record in self.trust.sites()? {
            let site = record.site.clone();
            if let Err(e) = self.rescan_site(record).await {
                tracing::warn!(%site, error = %format!("{e:#}"), "site from the cluster's trust not picked up yet");
            }
        }
        Ok(())
    }

    /// One site of the shared trust: pushed again if its revocation changed, attached if this hub did not know it.
    async fn rescan_site(self: &Rc<Self>, record: fleet_trust::SiteRecord) -> anyhow::Result<()> {
        let site = record.site.clone();
        let revoked = record.revoked_at_s.is_some();
        let jwt_path = self.trust.layout().account_jwt(&fleet_trust::AccountName::site(&site));
        let changed = self.links.borrow_mut().get_mut(&site).is_some_and(|link| {
            let changed = link.revoked != revoked;
            if revoked && changed {
                link.last_seen = None;
            }
            link.revoked = revoked;
            changed
        });
        let unknown = !self.knows(&site) && !self.adding.borrow().contains(&site);
        if !(changed || unknown) || !jwt_path.exists() || !self.trust.hub_in_site_creds_path(&site).exists() {
            return Ok(()); // nothing new, or its files have not all arrived yet
        }
        let jwt = std::fs::read_to_string(&jwt_path)?;
        fleet_trust::push_account_jwt(&self.access.system, jwt.trim()).await?;
        if !unknown {
            return Ok(());
        }
        let connect = site_accounts::connect(&self.access.url, &self.access.ca, &self.trust, &site);
        let account = tokio::time::timeout(std::time::Duration::from_secs(10), connect)
            .await
            .map_err(|_| anyhow::anyhow!("connecting into site {site}'s account: timed out"))??;
        self.attach(account).await?;
        tracing::info!(%site, "site added by another hub of the cluster");
        Ok(())
    }

    /// The trust this hub shares with the other hubs of its cluster (changes to it go through
    /// [`TrustReplica::begin`] and [`TrustReplica::finish`]).
    pub fn replica(&self) -> Rc<TrustReplica> {
        self.replica.clone()
    }

    /// The system-account connection that pushes account JWTs.
    pub fn system(&self) -> async_nats::Client {
        self.access.system.clone()
    }

    /// Every known site.
    pub fn sites(&self) -> Vec<Token> {
        self.accounts.borrow().keys().cloned().collect()
    }

    /// True if the hub knows the site.
    pub fn knows(&self, site: &Token) -> bool {
        self.accounts.borrow().contains_key(site)
    }

    /// Sites whose last beacon is recent.
    pub fn online(&self) -> BTreeSet<Token> {
        self.links
            .borrow()
            .iter()
            .filter(|(_, link)| link.connected())
            .map(|(site, _)| site.clone())
            .collect()
    }

    /// Every known site that is not online, and for how long it has not been: ms since its last beacon, or since
    /// this hub started when it sent none since (a restarted hub does not take every site for long gone).
    pub fn offline_for_ms(&self) -> BTreeMap<Token, u64> {
        let since_start = self.started.elapsed();
        let links = self.links.borrow();
        self.sites()
            .into_iter()
            .filter_map(|site| {
                let link = links.get(&site);
                if link.is_some_and(SiteLink::connected) {
                    return None;
                }
                let silent = link.and_then(|l| l.last_seen).map_or(since_start, |at| at.elapsed());
                Some((site, silent.as_millis() as u64))
            })
            .collect()
    }

    /// The link state of one site.
    pub fn link(&self, site: &Token) -> Option<SiteLink> {
        self.links.borrow().get(site).cloned()
    }

    /// The hub's connection into `site`'s account.
    pub fn account(&self, site: &Token) -> Option<SiteAccount> {
        self.accounts.borrow().get(site).cloned()
    }

    /// Stops hearing beacons.
    pub fn stop(&self) {
        for listener in self.listeners.borrow_mut().drain(..) {
            listener.abort();
        }
    }

    async fn on_beacon(&self, account: &SiteAccount, beacon: SiteBeacon) {
        let site = &account.site;
        let revoked = self.link(site).is_some_and(|link| link.revoked);
        if revoked {
            return; // the server closes a revoked site's link; a beacon still in flight changes nothing
        }
        let back = !self.link(site).is_some_and(|link| link.connected());
        // Every hub of a cluster hears every beacon (each keeps its own view of the links); only the one that runs
        // the orchestrator touches the copies' sources.
        let leads = self.leadership.holds();
        let resume = {
            let mut links = self.links.borrow_mut();
            let link = links.entry(site.clone()).or_default();
            let due = back || link.resume_pending;
            link.resume_pending = due && !leads;
            due && leads
        };
        if resume {
            // Back after a cut or a hub restart: copy now rather than after the server's retry backoff. In a task
            // of its own: after a hub restart every site comes back at once, and these stream updates queue up at
            // the server; the beacons that follow must not wait behind them.
            let (js, site) = (account.js.clone(), site.clone());
            actix_rt::spawn(async move {
                for stream in [subject::site_stream(&site), subject::telemetry_stream(&site)] {
                    match replay::resume_source(&js, &stream).await {
                        Ok(_) => tracing::info!(%site, %stream, "site link up: its copy resumes"),
                        Err(e) => {
                            tracing::warn!(%site, %stream, error = %e, "copy not resumed; the server retries on its own")
                        }
                    }
                }
            });
        }
        let now = Instant::now();
        let stream = subject::site_stream(site);
        let copied = self.projection.projection.high_water(&stream);
        let remedy = {
            let mut links = self.links.borrow_mut();
            let link = links.entry(site.clone()).or_default();
            link.last_seen = Some(now);
            link.last_seen_unix_ms = Some(actors::process_clock::system_wall_ms());
            link.site_last_seq = beacon.site_last_seq;
            link.node_heartbeat_ms_ago = beacon.node_heartbeat_ms_ago;
            // A copy could not move while the site was away: its clock starts again when the site is back.
            let previous = if back { None } else { link.copy };
            let mut copy = CopyProgress::observe(previous, copied, now);
            let remedy = leads && copy.needs_remedy(link.site_last_seq, true, now);
            if remedy {
                copy.remedied_at = Some(now);
            }
            link.copy = Some(copy);
            remedy
        };
        if remedy {
            tracing::warn!(
                %site,
                copied,
                site_last_seq = beacon.site_last_seq,
                "the hub's copy of the site's stream stalled (behind the site and not moving for {:?}): setting it \
                 up again and resuming its source",
                copy_watch::STALLED_AFTER
            );
            let (js, site, policy) = (account.js.clone(), site.clone(), self.policy.clone());
            actix_rt::spawn(async move {
                let resumed = match replay::ensure_hub_copy_of_site(&js, &site, &policy).await {
                    Ok(()) => replay::resume_source(&js, &stream).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                if let Err(e) = resumed {
                    tracing::warn!(%site, error = %e, "the stalled copy was not resumed; trying again later");
                }
            });
        }
    }
}

/// Hears one site's beacons, in its own account, and answers each one (the site's proof that the hub is there).
async fn listen(directory: Rc<SiteDirectory>, account: SiteAccount) {
    let site = account.site.clone();
    let mut beacons = match account.client.subscribe(beacon_subject(&site)).await {
        Ok(subscription) => subscription,
        Err(e) => return tracing::error!(%site, error = %e, "cannot subscribe to the site's beacons"),
    };
    while let Some(message) = beacons.next().await {
        match serde_json::from_slice::<SiteBeacon>(&message.payload) {
            Ok(beacon) if beacon.site == site.as_str() => {
                // Answered first: what the beacon sets off (resuming the site's copy, two stream updates) must not
                // hold up the answer — after a hub restart every site's first beacon does, at once.
                if let Some(reply) = message.reply {
                    let _ = account.client.publish(reply, "{}".into()).await;
                }
                directory.on_beacon(&account, beacon).await;
            }
            Ok(beacon) => tracing::warn!(
                %site,
                claimed = %crate::api_types::error::sanitize(&beacon.site, 64),
                "beacon refused: it names another site"
            ),
            Err(e) => tracing::warn!(%site, error = %e, "malformed beacon"),
        }
    }
}
