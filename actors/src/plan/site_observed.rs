//! What a site observes outside its log: agent heartbeats (liveness is not history), what each agent says it
//! applied and runs, what the cluster runtime installed, and what its telemetry says of the gates due. Passed to
//! the planner each time; never a reason to keep state that a restart would lose — a restarted site observes it
//! all again within a heartbeat.

use crate::gate_evaluation::GateVerdict;
use crate::node::Membership;
use events::cluster::ProfileRef;
use events::node::{NodeRole, OsUpdateFailure, RootSlot};
use events::rollout::ClusterTarget;
use events::Token;
use std::collections::BTreeMap;

/// What the runtime installed on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provisioned {
    /// The cluster.
    pub cluster: Token,
    /// The role.
    pub role: NodeRole,
    /// The profile whose releases are installed.
    pub profile: ProfileRef,
}

impl Provisioned {
    /// The membership this install serves.
    pub fn membership(&self) -> Membership {
        Membership {
            cluster: self.cluster.clone(),
            role: self.role,
        }
    }
}

/// What an agent reports about its OS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservedOs {
    /// Version running (`None`: the bootstrap image).
    pub version: Option<String>,
    /// Active root slot, when the agent could read it.
    pub slot: Option<RootSlot>,
    /// The last update the agent rolled back.
    pub failure: Option<OsUpdateFailure>,
}

/// One node as the site observes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObservedNode {
    /// Milliseconds since the site last heard the agent (a node not heard since the process started counts from
    /// the start, so a node that never comes back goes silent).
    pub heard_ms_ago: u64,
    /// The membership the agent says it applied.
    pub applied: Option<Membership>,
    /// The OS the agent says it runs.
    pub os: Option<ObservedOs>,
    /// What the runtime installed on the node.
    pub provisioned: Option<Provisioned>,
    /// The reset generation the agent says it carried out (wiped its membership): a reset completes only then.
    pub reset_done: Option<u64>,
}

/// Everything the site observes, by node, and the verdicts of the gates due (from its telemetry stream).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteObserved {
    /// Observed nodes.
    pub nodes: BTreeMap<Token, ObservedNode>,
    /// What the samples say about each due gate, by (rollout, cluster); a gate not evaluated this pass is absent.
    pub gates: BTreeMap<(Token, ClusterTarget), GateVerdict>,
}

impl SiteObserved {
    /// What is observed of `node` (nothing heard: a default that is not live).
    pub fn node(&self, node: &Token) -> ObservedNode {
        self.nodes.get(node).cloned().unwrap_or(ObservedNode {
            heard_ms_ago: u64::MAX,
            ..ObservedNode::default()
        })
    }
}
