//! Reply bodies, built from aggregate states: the API answers with them, the CLI prints them, and `edgefleet get`
//! shows a replayed state through the same views — one spelling everywhere (`control-plane`, `ready`,
//! `edge-stack@2`), never the internal state shape.

use super::as_text;
use actors::cluster::ClusterState;
use actors::node::{NodeLifecycle, NodeState};
use actors::profile::ProfileState;
use actors::rollout::{ClusterRolloutStatus, RolloutState};
use actors::site::SiteState;
use events::cluster::ProfileRef;
use events::node::{Inventory, NodeRole, OsUpdateFailure, RootSlot};
use events::profile::ProfileLayers;
use events::rollout::PauseReason;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A node as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeView {
    /// Site.
    pub site: String,
    /// Node id.
    pub id: String,
    /// Lifecycle.
    pub state: NodeLifecycle,
    /// Cluster it is a member of.
    pub cluster: Option<String>,
    /// Role in it.
    pub role: Option<NodeRole>,
    /// Cluster the operator assigned it to (may differ until the site acts: drift).
    pub assigned_cluster: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Hardware.
    pub inventory: Option<Inventory>,
    /// Spec generation.
    pub generation: u64,
    /// Highest membership generation the site acted on.
    pub observed_generation: u64,
    /// Last failure.
    pub failure: Option<String>,
    /// True while the site reports the node silent.
    pub silent: bool,
    /// Milliseconds since the site last heard the node (per the site's last beacon).
    pub last_heartbeat_ms_ago: Option<u64>,
    /// OS version running.
    pub os_version: Option<String>,
    /// Root slot running.
    pub os_slot: Option<RootSlot>,
    /// OS version being installed.
    pub os_updating_to: Option<String>,
    /// The last OS update that failed.
    pub os_last_failure: Option<OsUpdateFailure>,
}

impl NodeView {
    /// The view of `node` at `site`.
    pub fn new(site: &str, id: &str, node: &NodeState, last_heartbeat_ms_ago: Option<u64>) -> Self {
        let status = &node.status;
        Self {
            site: site.to_string(),
            id: id.to_string(),
            state: node.lifecycle(),
            cluster: status.membership.as_ref().map(|m| m.cluster.to_string()),
            role: status.membership.as_ref().map(|m| m.role),
            assigned_cluster: node.spec.assignment.as_ref().map(|m| m.cluster.to_string()),
            labels: node.spec.labels.clone(),
            inventory: status.inventory.clone(),
            generation: node.spec.generation,
            observed_generation: status.observed_generation,
            failure: status.failure.clone(),
            silent: status.silent_since.is_some(),
            last_heartbeat_ms_ago,
            os_version: status.os_version.clone(),
            os_slot: status.os_slot,
            os_updating_to: status.os_updating_to.clone(),
            os_last_failure: status.os_last_failure.clone(),
        }
    }
}

/// One member of a cluster.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberView {
    /// Node id.
    pub node: String,
    /// Role.
    pub role: NodeRole,
    /// The node's lifecycle, if the hub holds the node.
    pub state: Option<NodeLifecycle>,
}

/// A cluster as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterView {
    /// Site.
    pub site: String,
    /// Cluster id.
    pub id: String,
    /// `forming`, `ready`, `degraded: …`, `deleting` (deleted, not yet removed at the site), `removed`.
    pub state: String,
    /// Desired profile.
    #[serde(with = "as_text::option")]
    pub profile: Option<ProfileRef>,
    /// Profile running at the site.
    #[serde(with = "as_text::option")]
    pub running_profile: Option<ProfileRef>,
    /// Members.
    pub members: Vec<MemberView>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Overrides.
    pub overrides: BTreeMap<String, String>,
    /// Deleted by the operator.
    pub deleted: bool,
    /// Spec generation.
    pub generation: u64,
    /// Generation the site acted on.
    pub observed_generation: u64,
    /// The apps its placements want it to run (`name@version`).
    #[serde(default)]
    pub apps: Vec<String>,
    /// Per app, wanted or installed: what is wanted, what the site installed, whether they agree, and why not.
    #[serde(default)]
    pub app_status: Vec<AppStatusView>,
}

/// One app on one cluster.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppStatusView {
    /// The app.
    pub app: String,
    /// The version its placements want (`name@version`), if any.
    pub desired: Option<String>,
    /// The version the site reported installed, if any.
    pub installed: Option<String>,
    /// Installed as desired, with no failure.
    pub healthy: bool,
    /// Why the site could not install it.
    pub error: Option<String>,
}

impl ClusterView {
    /// The view; `member_state` gives each member node's lifecycle.
    pub fn new(
        site: &str,
        id: &str,
        cluster: &ClusterState,
        member_state: impl Fn(&str) -> Option<NodeLifecycle>,
    ) -> Self {
        let removed = cluster.status.health == actors::cluster::ClusterHealth::Removed;
        let state = if cluster.spec.deleted && !removed {
            "deleting".to_string()
        } else {
            cluster.status.health.to_string()
        };
        Self {
            site: site.to_string(),
            id: id.to_string(),
            state,
            profile: cluster.spec.profile.clone(),
            running_profile: cluster.status.running_profile.clone(),
            members: cluster
                .status
                .members
                .iter()
                .map(|(node, role)| MemberView {
                    node: node.to_string(),
                    role: *role,
                    state: member_state(node.as_str()),
                })
                .collect(),
            labels: cluster.spec.labels.clone(),
            overrides: cluster.spec.overrides.clone(),
            deleted: cluster.spec.deleted,
            generation: cluster.spec.generation,
            observed_generation: cluster.status.observed_generation,
            apps: cluster.spec.apps.values().map(ToString::to_string).collect(),
            app_status: app_status(cluster),
        }
    }
}

fn app_status(cluster: &ClusterState) -> Vec<AppStatusView> {
    let names: std::collections::BTreeSet<_> = cluster
        .spec
        .apps
        .keys()
        .chain(cluster.status.apps.keys())
        .chain(cluster.status.app_failures.keys())
        .collect();
    names
        .into_iter()
        .map(|name| {
            let desired = cluster.spec.apps.get(name);
            let installed = cluster.status.apps.get(name);
            let error = cluster.status.app_failures.get(name).cloned();
            AppStatusView {
                app: name.to_string(),
                desired: desired.map(ToString::to_string),
                installed: installed.map(ToString::to_string),
                healthy: desired.is_some() && desired == installed && error.is_none(),
                error,
            }
        })
        .collect()
}

/// How the hub's copy of a site's stream is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyHealth {
    /// The copy holds everything the site's last beacon said it has.
    #[default]
    CaughtUp,
    /// Behind, and moving (or not behind long enough to tell).
    Copying,
    /// Behind, and not moving for `hub::copy_watch::STALLED_AFTER` while the site is connected.
    Stalled,
}

impl std::fmt::Display for CopyHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CopyHealth::CaughtUp => "caught-up",
            CopyHealth::Copying => "copying",
            CopyHealth::Stalled => "stalled",
        })
    }
}

/// A site's link as the hub sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteConnection {
    /// A beacon arrived recently.
    Connected,
    /// Beacons stopped.
    Disconnected,
    /// Not heard since the hub started.
    Unknown,
    /// Its credentials were revoked.
    Revoked,
}

impl std::fmt::Display for SiteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SiteConnection::Connected => "connected",
            SiteConnection::Disconnected => "disconnected",
            SiteConnection::Unknown => "unknown",
            SiteConnection::Revoked => "revoked",
        })
    }
}

/// A site with its link, labels and what the hub quarantined of its events.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SiteView {
    /// Site id.
    pub site: String,
    /// Link state.
    pub connection: SiteConnection,
    /// Hub wall time of the last beacon (ms since the epoch).
    pub last_seen_unix_ms: Option<u64>,
    /// Site events not yet copied to the hub, as of the site's last beacon (a lower bound while disconnected).
    pub replication_lag: u64,
    /// Site events the hub holds.
    pub copied_events: u64,
    /// How the hub's copy of the site's stream is doing: `caught-up`, `copying`, or `stalled` (behind the site and
    /// not moving while the site is connected; the hub then sets the copy up again).
    #[serde(default)]
    pub copy: CopyHealth,
    /// Messages of the site's stream the hub could not read and quarantined.
    pub quarantined: u64,
    /// Operator labels.
    pub labels: BTreeMap<String, String>,
    /// Time zone the site reported.
    pub timezone: Option<String>,
    /// Maintenance window.
    pub maintenance_window: Option<String>,
    /// How the site's metrics are being delivered, per remote-write endpoint (empty: the hub delivers to none).
    #[serde(default)]
    pub telemetry: Vec<TelemetryDeliveryView>,
}

/// Delivery of one site's metrics to one remote-write endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryDeliveryView {
    /// The endpoint (without credentials).
    pub endpoint: String,
    /// Telemetry batches (metrics and logs) in the hub's copy not passed yet by this endpoint's delivery.
    pub backlog_batches: u64,
    /// Samples delivered.
    pub delivered_samples: u64,
    /// Samples the endpoint refused for good (older than its out-of-order window, malformed).
    pub refused_samples: u64,
    /// Telemetry batches (metrics and logs) discarded by the site's limit before the hub copied them.
    pub dropped_at_site: u64,
    /// Telemetry batches discarded by the hub copy's own age limit before they were delivered.
    pub dropped_at_hub: u64,
    /// The newest hole: last sample time before it and first after it (ms since the epoch; 0: unknown).
    pub last_hole_unix_ms: Option<(i64, i64)>,
    /// Why delivery is being retried, if it is.
    pub retrying: Option<String>,
    /// When delivery last reported (ms since the epoch).
    pub updated_unix_ms: u64,
}

impl SiteView {
    /// Fills in what the site's aggregate says.
    pub fn with_state(mut self, state: Option<&SiteState>) -> Self {
        if let Some(state) = state {
            self.labels = state.spec.labels.clone();
            self.timezone = state.status.timezone.clone();
            self.maintenance_window = state.spec.maintenance_window.as_ref().map(ToString::to_string);
        }
        self
    }
}

/// A site as its own aggregate says (what `edgefleet get site/ID` shows; `sites.get` adds the link).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SiteStateView {
    /// Site id.
    pub site: String,
    /// Operator labels.
    pub labels: BTreeMap<String, String>,
    /// Maintenance window.
    pub maintenance_window: Option<String>,
    /// Time zone the site reported.
    pub timezone: Option<String>,
    /// Version of the site's controller.
    pub controller_version: Option<String>,
    /// Spec generation.
    pub generation: u64,
}

impl SiteStateView {
    /// The view of site `site`.
    pub fn new(site: &str, state: &SiteState) -> Self {
        Self {
            site: site.to_string(),
            labels: state.spec.labels.clone(),
            maintenance_window: state.spec.maintenance_window.as_ref().map(ToString::to_string),
            timezone: state.status.timezone.clone(),
            controller_version: state.status.controller_version.clone(),
            generation: state.spec.generation,
        }
    }
}

/// One profile version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProfileView {
    /// Name.
    pub name: String,
    /// The version shown.
    pub version: u32,
    /// Every published version.
    pub versions: Vec<u32>,
    /// True if this request published the version.
    pub created: bool,
    /// Its layers.
    pub layers: ProfileLayers,
}

impl ProfileView {
    /// Version `version` (the latest when `None`) of `state`, or `None` if it does not exist.
    pub fn new(name: &str, state: &ProfileState, version: Option<u32>, created: bool) -> Option<Self> {
        let (version, layers) = match version {
            Some(v) => (v, state.versions.get(&v)?),
            None => state.latest()?,
        };
        Some(Self {
            name: name.to_string(),
            version,
            versions: state.versions.keys().copied().collect(),
            created,
            layers: layers.clone(),
        })
    }
}

/// One row of `profiles.list`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProfileRow {
    /// Name.
    pub name: String,
    /// Latest version.
    pub latest: u32,
    /// Every version.
    pub versions: Vec<u32>,
    /// Kubernetes of the latest version.
    pub k8s: String,
    /// OS image of the latest version.
    pub os: String,
}

/// One cluster's progress in a rollout.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterProgress {
    /// `site/cluster`.
    pub cluster: String,
    /// `pending`, `updating`, `updated`, `failed: …`, `rolled-back`, `skipped: …`.
    pub status: String,
}

/// A rollout as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RolloutView {
    /// Rollout id.
    pub id: String,
    /// Target profile.
    #[serde(with = "as_text::option")]
    pub profile: Option<ProfileRef>,
    /// `running`, `paused: operator`, `paused: failure budget spent`, `paused: gate breached`, `aborted`,
    /// `complete`.
    pub state: String,
    /// Waves released so far.
    pub released_waves: usize,
    /// Clusters per wave with their status.
    pub waves: Vec<Vec<ClusterProgress>>,
    /// Failures so far.
    pub failures: u32,
    /// Failure budget.
    pub failure_budget: u32,
    /// Maintenance window.
    pub window: Option<String>,
    /// Telemetry gate, if any.
    #[serde(default)]
    pub gate: Option<String>,
}

/// The text of one cluster's status in a rollout.
pub fn rollout_status_text(status: &ClusterRolloutStatus) -> String {
    match status {
        ClusterRolloutStatus::Pending => "pending".into(),
        ClusterRolloutStatus::Updating => "updating".into(),
        ClusterRolloutStatus::Updated => "updated".into(),
        ClusterRolloutStatus::Verifying { .. } => "verifying".into(),
        ClusterRolloutStatus::GateBreached { node, series, value } => {
            format!("gate-breached: node {node} {series} = {value}")
        }
        ClusterRolloutStatus::Failed { reason, .. } => format!("failed: {reason}"),
        ClusterRolloutStatus::RolledBack => "rolled-back".into(),
        ClusterRolloutStatus::Skipped { reason } => format!("skipped: {reason}"),
    }
}

impl RolloutView {
    /// The view of rollout `id`.
    pub fn new(id: &str, state: &RolloutState) -> Self {
        let run_state = if state.spec.aborted {
            "aborted".to_string()
        } else if let Some(reason) = &state.spec.paused {
            match reason {
                PauseReason::Operator => "paused: operator".to_string(),
                PauseReason::FailureBudgetSpent => "paused: failure budget spent".to_string(),
                PauseReason::GateBreached => "paused: gate breached".to_string(),
            }
        } else if state.is_complete() {
            "complete".to_string()
        } else {
            "running".to_string()
        };
        Self {
            id: id.to_string(),
            profile: state.spec.profile.clone(),
            state: run_state,
            released_waves: state.spec.released_unix_s.len(),
            waves: state
                .spec
                .plan
                .iter()
                .map(|wave| {
                    wave.iter()
                        .map(|t| ClusterProgress {
                            cluster: t.to_string(),
                            status: rollout_status_text(&state.cluster_status(t)),
                        })
                        .collect()
                })
                .collect(),
            failures: state.failures(),
            failure_budget: state.spec.failure_budget,
            window: state.spec.window.as_ref().map(ToString::to_string),
            gate: state.spec.gate.as_ref().map(ToString::to_string),
        }
    }
}

/// One quarantined message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QuarantineView {
    /// The stream it was read from.
    pub stream: String,
    /// Its sequence there.
    pub seq: u64,
    /// The site whose stream it is, if it is a site's.
    pub site: Option<String>,
    /// The subject it was published on.
    pub subject: String,
    /// Why it was quarantined.
    pub reason: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its first bytes, in hex.
    pub first_bytes: String,
}

impl From<&replay::QuarantinedMessage> for QuarantineView {
    fn from(m: &replay::QuarantinedMessage) -> Self {
        Self {
            stream: m.stream.clone(),
            seq: m.seq,
            site: events::subject::site_of_stream(&m.stream).map(|s| s.to_string()),
            subject: m.subject.clone(),
            reason: m.reason.clone(),
            size: m.size,
            first_bytes: m.first_bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// One log line as `logs.list` answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLineView {
    /// The node that logged it (`site`: the site process).
    pub node: String,
    /// When (ms since the epoch).
    pub at_unix_ms: i64,
    /// Its level.
    pub level: telemetry::LogLevel,
    /// The module that logged it.
    pub target: String,
    /// The message.
    pub message: String,
    /// Its fields.
    pub fields: Vec<(String, String)>,
}

/// A page of log lines, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// The lines.
    pub lines: Vec<LogLineView>,
    /// Pass as `after_seq` to read on from here.
    pub next_after_seq: u64,
    /// Batches read that were not log batches (damaged on the way), skipped.
    pub unreadable_batches: u64,
}

/// A site's answer to a local reader: a page, or why not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalLogsReply {
    /// The page.
    #[serde(default)]
    pub page: Option<LogPage>,
    /// Why there is none.
    #[serde(default)]
    pub error: Option<String>,
}
