//! Reply bodies, built from replayed aggregate states.

use actors::cluster::ClusterState;
use actors::node::NodeState;
use events::node::Inventory;
use serde::Serialize;
use std::collections::BTreeMap;

/// A node as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct NodeView {
    /// Site.
    pub site: String,
    /// Node id.
    pub id: String,
    /// Lifecycle: unassigned, assigned, provisioning, ready, failed, resetting.
    pub state: String,
    /// Cluster it is a member of.
    pub cluster: Option<String>,
    /// Role in it.
    pub role: Option<String>,
    /// Cluster the operator assigned it to (may differ until the site acts: drift).
    pub assigned_cluster: Option<String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Hardware.
    pub inventory: Option<Inventory>,
    /// Spec generation and the generation the site acted on.
    pub generation: u64,
    /// Highest generation the site acted on.
    pub observed_generation: u64,
    /// Last failure.
    pub failure: Option<String>,
    /// True while the site reports the node silent.
    pub silent: bool,
    /// Milliseconds since the site last heard the node (per the site's last beacon).
    pub last_heartbeat_ms_ago: Option<u64>,
}

/// The operator-facing lifecycle name.
pub fn lifecycle_name(node: &NodeState) -> String {
    format!("{:?}", node.lifecycle()).to_lowercase()
}

impl NodeView {
    /// Builds the view of `node` at `site`.
    pub fn new(site: &str, id: &str, node: &NodeState, last_heartbeat_ms_ago: Option<u64>) -> Self {
        Self {
            site: site.to_string(),
            id: id.to_string(),
            state: lifecycle_name(node),
            cluster: node.status.membership.as_ref().map(|m| m.cluster.to_string()),
            role: node.status.membership.as_ref().map(|m| m.role.as_str().to_string()),
            assigned_cluster: node.spec.assignment.as_ref().map(|m| m.cluster.to_string()),
            labels: node.spec.labels.clone(),
            inventory: node.status.inventory.clone(),
            generation: node.spec.generation,
            observed_generation: node.status.observed_generation,
            failure: node.status.failure.clone(),
            silent: node.status.silent_since.is_some(),
            last_heartbeat_ms_ago,
        }
    }
}

/// One member of a cluster.
#[derive(Clone, Debug, Serialize)]
pub struct MemberView {
    /// Node id.
    pub node: String,
    /// Role.
    pub role: String,
    /// The node's lifecycle.
    pub state: String,
}

/// A cluster as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterView {
    /// Site.
    pub site: String,
    /// Cluster id.
    pub id: String,
    /// Health: absent, forming, ready, degraded, removed.
    pub state: String,
    /// Desired profile `name@version`.
    pub profile: Option<String>,
    /// Profile running at the site.
    pub running_profile: Option<String>,
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
}

impl ClusterView {
    /// Builds the view; `member_state` gives each member node's lifecycle.
    pub fn new(site: &str, id: &str, cluster: &ClusterState, member_state: impl Fn(&str) -> String) -> Self {
        let state = match &cluster.status.health {
            actors::cluster::ClusterHealth::Degraded(reason) => format!("degraded: {reason}"),
            other => format!("{other:?}").to_lowercase(),
        };
        Self {
            site: site.to_string(),
            id: id.to_string(),
            state,
            profile: cluster.spec.profile.as_ref().map(ToString::to_string),
            running_profile: cluster.status.running_profile.as_ref().map(ToString::to_string),
            members: cluster
                .status
                .members
                .iter()
                .map(|(node, role)| MemberView {
                    node: node.to_string(),
                    role: role.as_str().to_string(),
                    state: member_state(node.as_str()),
                })
                .collect(),
            labels: cluster.spec.labels.clone(),
            overrides: cluster.spec.overrides.clone(),
            deleted: cluster.spec.deleted,
            generation: cluster.spec.generation,
            observed_generation: cluster.status.observed_generation,
        }
    }
}
