//! What the site controller does next for one node — a pure function of the node's spec and status, the site
//! image and what the node agent reports (brupop's `determine_next_step` pattern). The controller runs it after
//! every registration, heartbeat and intent, executes the step through the actors, and runs it again until idle.
//!
//! Conflict rule (DESIGN §3): a hub intent wins from the generation the site acknowledges. A local decision made
//! offline (formation, promotion) stands until a newer intent arrives; the drift shows in the state meanwhile.

use crate::node::{Membership, NodePhase, NodeState};
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::Token;

/// The cluster definition a site carries in its image, used to form a cluster with no hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteImage {
    /// The cluster every new node joins when the hub has said nothing about it.
    pub cluster: Token,
    /// The profile it is formed with.
    pub profile: ProfileRef,
}

/// The next thing to do for a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeStep {
    /// Nothing to do now.
    Idle,
    /// Join `cluster`; `role: None` lets the cluster's formation rule choose.
    Join {
        /// The cluster.
        cluster: Token,
        /// The role the hub asked for, if it did.
        role: Option<NodeRole>,
    },
    /// Leave `cluster` (the hub unassigned the node or moved it elsewhere).
    Leave {
        /// The cluster left.
        cluster: Token,
    },
    /// Leave the cluster, if any, and go back to the bootstrap partition.
    Reset {
        /// The cluster to leave first.
        cluster: Option<Token>,
    },
    /// Start provisioning the node for its membership.
    Provision,
    /// The agent applied the membership: the node is ready.
    Ready,
}

/// What the site controller sees of the node outside the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeReality {
    /// The membership the node agent last reported as applied.
    pub agent_applied: Option<Membership>,
    /// The membership the cluster runtime last provisioned on the node.
    pub runtime_provisioned: Option<Membership>,
    /// The node has been silent so long that it counts as lost (`--lost-after-s`): a lost control-plane member
    /// leaves its cluster so a worker can take its place, and a lost node joins nothing until it is back.
    pub lost: bool,
}

/// Decides the next step for `node`, given the site image, what the agent and runtime report, and which clusters
/// the hub deleted. Labels never move membership: only assign, unassign and reset (their generation) do. A deleted
/// cluster is left by its members and never joined again, whether the hub or the site image put a node in it.
pub fn next_node_step(
    node: &NodeState,
    site_image: Option<&SiteImage>,
    reality: &NodeReality,
    cluster_deleted: impl Fn(&Token) -> bool,
) -> NodeStep {
    if node.status.inventory.is_none() {
        return NodeStep::Idle;
    }
    let spec = &node.spec;
    let have = node.status.membership.as_ref();
    if spec.reset_generation > node.status.observed_generation {
        return NodeStep::Reset {
            cluster: have.map(|m| m.cluster.clone()),
        };
    }
    if let Some(have) = have.filter(|m| cluster_deleted(&m.cluster)) {
        return NodeStep::Leave {
            cluster: have.cluster.clone(),
        };
    }
    if reality.lost {
        // Back, it joins again like a new node: as a worker unless the hub names its role.
        return match have {
            Some(have) if have.role == NodeRole::ControlPlane => NodeStep::Leave {
                cluster: have.cluster.clone(),
            },
            _ => NodeStep::Idle,
        };
    }
    let want = spec.assignment.as_ref().filter(|m| !cluster_deleted(&m.cluster));
    let drifting = node.drifting();
    match (want, have) {
        (Some(want), Some(have)) if want.cluster != have.cluster && drifting => NodeStep::Leave {
            cluster: have.cluster.clone(),
        },
        (Some(want), Some(have)) if drifting && (want.role != have.role || want.cluster == have.cluster) => {
            NodeStep::Join {
                cluster: want.cluster.clone(),
                role: Some(want.role),
            }
        }
        (Some(want), None) => NodeStep::Join {
            cluster: want.cluster.clone(),
            role: Some(want.role),
        },
        (None, Some(have)) if drifting && spec.membership_generation > 0 => NodeStep::Leave {
            cluster: have.cluster.clone(),
        },
        (None, None) if spec.membership_generation == 0 => match site_image.filter(|i| !cluster_deleted(&i.cluster)) {
            Some(image) => NodeStep::Join {
                cluster: image.cluster.clone(),
                role: None,
            },
            None => NodeStep::Idle,
        },
        (_, Some(have)) => provisioning_step(node.status.phase, have, reality),
        (None, None) => NodeStep::Idle,
    }
}

fn provisioning_step(phase: NodePhase, have: &Membership, reality: &NodeReality) -> NodeStep {
    let provisioned = reality.runtime_provisioned.as_ref() == Some(have);
    let applied = reality.agent_applied.as_ref() == Some(have);
    match phase {
        NodePhase::Joined => NodeStep::Provision,
        // Provisioning that the runtime has not done (e.g. the controller restarted mid-install): do it again.
        NodePhase::Provisioning if !provisioned => NodeStep::Provision,
        NodePhase::Provisioning if applied => NodeStep::Ready,
        NodePhase::Ready if !provisioned || (reality.agent_applied.is_some() && !applied) => NodeStep::Provision,
        _ => NodeStep::Idle,
    }
}
