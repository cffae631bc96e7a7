//! Request bodies. Unknown fields are refused so a typo never silently does nothing.

use events::profile::ProfileLayers;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A request with no parameters (`{}` or an empty body).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// Names a node; `site` is needed only when the id is used at several sites.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeRef {
    /// Node id.
    pub id: String,
    /// Its site.
    #[serde(default)]
    pub site: Option<String>,
}

/// `nodes.list` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFilter {
    /// Only nodes of this site.
    #[serde(default)]
    pub site: Option<String>,
    /// Only nodes in this lifecycle state (case-insensitive: unassigned, assigned, provisioning, ready, failed…).
    #[serde(default)]
    pub state: Option<String>,
    /// Only nodes carrying all these labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `nodes.assign`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// Node id.
    pub id: String,
    /// Its site.
    #[serde(default)]
    pub site: Option<String>,
    /// Target cluster at the node's site.
    pub cluster: String,
    /// `control-plane` or `worker`.
    pub role: String,
}

/// `*.label`: replaces an aggregate's labels.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Aggregate id.
    pub id: String,
    /// Its site (nodes and clusters).
    #[serde(default)]
    pub site: Option<String>,
    /// The full new label set.
    pub labels: BTreeMap<String, String>,
}

/// Names a site.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRef {
    /// Site id.
    pub id: String,
}

/// `profiles.apply`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileApply {
    /// Profile name.
    pub name: String,
    /// Its layers.
    pub layers: ProfileLayers,
}

/// `profiles.get`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRefRequest {
    /// Profile name.
    pub name: String,
    /// A version (default: the latest).
    #[serde(default)]
    pub version: Option<u32>,
}

/// `clusters.create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterCreate {
    /// Cluster id.
    pub id: String,
    /// The site it runs at.
    pub site: String,
    /// `NAME@VERSION`.
    pub profile: String,
    /// Per-cluster overrides.
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Names a cluster.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterRef {
    /// Cluster id.
    pub id: String,
    /// Its site (needed when the id exists at several sites).
    #[serde(default)]
    pub site: Option<String>,
}

/// `clusters.list` filter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFilter {
    /// Only clusters of this site.
    #[serde(default)]
    pub site: Option<String>,
}

/// `clusters.upgrade`: move a cluster to another profile version.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterUpgrade {
    /// Cluster id.
    pub id: String,
    /// Its site.
    #[serde(default)]
    pub site: Option<String>,
    /// `NAME@VERSION`.
    pub profile: String,
}

/// `rollouts.create`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutCreate {
    /// Rollout id.
    pub id: String,
    /// `NAME@VERSION` to move the selected clusters to.
    pub profile: String,
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
    #[serde(default)]
    pub window: Option<String>,
    /// Seconds after a wave's release before clusters of offline sites are skipped.
    #[serde(default = "default_skip_after_s")]
    pub skip_after_s: u64,
}

fn default_waves() -> String {
    "1,10%,50%,100%".into()
}

fn default_skip_after_s() -> u64 {
    24 * 3600
}

/// Names a rollout.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutRef {
    /// Rollout id.
    pub id: String,
}
