//! Request bodies. Every field is typed: ids are `Token`s, roles `NodeRole`s, profiles `NAME@VERSION` parsed into a
//! `ProfileRef`, windows parsed into a `MaintenanceWindow` — so a malformed value is refused while the body is read,
//! with a message naming the field. Unknown fields are refused too, so a typo never silently does nothing.

use super::as_text;
use actors::maintenance_window::MaintenanceWindow;
use actors::metric_gate::MetricGate;
use actors::node::NodeLifecycle;
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::profile::ProfileLayers;
use events::Token;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A request with no parameters (`{}` or an empty body).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// Names a node; `site` is needed only when the id is used at several sites.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeRef {
    /// Node id.
    pub id: Token,
    /// Its site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Token>,
}

/// `nodes.list` filters.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFilter {
    /// Only nodes of this site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Token>,
    /// Only nodes in this lifecycle state (unassigned, assigned, provisioning, ready, failed, resetting).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "as_text::option")]
    pub state: Option<NodeLifecycle>,
    /// Only nodes carrying all these labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Only nodes after this one, in (site, node) order: the last node of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<NodePosition>,
    /// At most this many nodes (default and most: [`NODE_PAGE`]). A page this full may have more after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// The most nodes one `nodes.list` answer holds: a few hundred kilobytes of JSON, well inside a NATS message
/// (100,000 nodes in one answer would be tens of megabytes).
pub const NODE_PAGE: usize = 500;

/// Where a page of nodes ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePosition {
    /// The node's site.
    pub site: Token,
    /// The node.
    pub id: Token,
}

/// `nodes.assign`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// Node id.
    pub id: Token,
    /// Its site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Token>,
    /// Target cluster at the node's site.
    pub cluster: Token,
    /// `control-plane` or `worker`.
    pub role: NodeRole,
}

/// `*.label`: replaces an aggregate's labels.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Aggregate id.
    pub id: Token,
    /// Its site (nodes and clusters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Token>,
    /// The full new label set.
    pub labels: BTreeMap<String, String>,
}

/// Names a site.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRef {
    /// Site id.
    pub id: Token,
}

/// `profiles.apply`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileApply {
    /// Profile name.
    pub name: Token,
    /// Its layers.
    pub layers: ProfileLayers,
}

/// `profiles.get`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileGet {
    /// Profile name.
    pub name: Token,
    /// A version (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// `clusters.create`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterCreate {
    /// Cluster id.
    pub id: Token,
    /// The site it runs at.
    pub site: Token,
    /// `NAME@VERSION`.
    #[serde(with = "as_text")]
    pub profile: ProfileRef,
    /// Per-cluster overrides.
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Names a cluster.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterRef {
    /// Cluster id.
    pub id: Token,
    /// Its site (needed when the id exists at several sites).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Token>,
}

/// `clusters.list` filter.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFilter {
    /// Only clusters of this site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Token>,
    /// Also clusters whose deletion the site confirmed (hidden by default).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
}

/// `clusters.upgrade`: move a cluster to another profile version.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterUpgrade {
    /// Cluster id.
    pub id: Token,
    /// Its site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Token>,
    /// `NAME@VERSION`.
    #[serde(with = "as_text")]
    pub profile: ProfileRef,
}

fn default_waves() -> String {
    "1,10%,50%,100%".into()
}

fn default_skip_after_s() -> u64 {
    24 * 3600
}

/// `rollouts.create`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutCreate {
    /// Rollout id.
    pub id: Token,
    /// `NAME@VERSION` to move the selected clusters to.
    #[serde(with = "as_text")]
    pub profile: ProfileRef,
    /// Labels a cluster (or its site) must carry.
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
    /// Cumulative waves, e.g. `1,10%,50%,100%`.
    #[serde(default = "default_waves")]
    pub waves: String,
    /// Failures tolerated before the rollout pauses.
    #[serde(default)]
    pub failure_budget: u32,
    /// Maintenance window in site-local time, e.g. `Sat 02:00-05:00`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "as_text::option")]
    pub window: Option<MaintenanceWindow>,
    /// Seconds after a wave's release before clusters of offline sites are skipped.
    #[serde(default = "default_skip_after_s")]
    pub skip_after_s: u64,
    /// Telemetry gate every updated cluster's nodes must hold before its wave counts as healthy, evaluated at the
    /// site, e.g. `node_load1 < 4 for 2m`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "as_text::option")]
    pub gate: Option<MetricGate>,
}

/// Names a rollout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutRef {
    /// Rollout id.
    pub id: Token,
}

/// `quarantine.list` filters.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineFilter {
    /// Only messages of this site's stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Token>,
}

/// Names one quarantined message.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuarantineRef {
    /// The stream it was read from.
    pub stream: String,
    /// Its sequence there.
    pub seq: u64,
}

/// `logs.list`: log lines of a site's agents and its site process, as the hub's copy of its telemetry holds them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// The site.
    pub site: Token,
    /// One node only (`site` for the site process's own lines).
    #[serde(default)]
    pub node: Option<Token>,
    /// Lines logged at or after this time (ms since the epoch); ignored with `after_seq`.
    #[serde(default)]
    pub since_unix_ms: Option<i64>,
    /// This level or more severe only (`error`, `warn`, `info`, `debug`, `trace`).
    #[serde(default)]
    pub level: Option<telemetry::LogLevel>,
    /// Continue after this copy sequence (a previous page's `next_after_seq`), for following.
    #[serde(default)]
    pub after_seq: Option<u64>,
    /// Lines per page at most (default 1,000, at most 5,000).
    #[serde(default)]
    pub limit: Option<u32>,
}
