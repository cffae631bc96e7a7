//! The node agent ↔ site controller protocol: JSON request/reply on the site's own nats-server.
//!
//! Subjects are scoped by site (`ef.agent.<site>.register|heartbeat`) because core NATS interest crosses the leaf
//! link: an unscoped subject could be answered by another site's controller. An agent learns its site from the
//! JetStream domain of the server it connects to.

use events::node::{Inventory, NodeRole};
use serde::{Deserialize, Serialize};

/// Subject an agent registers on.
pub fn register_subject(site: &str) -> String {
    format!("ef.agent.{site}.register")
}

/// Subject an agent heartbeats on.
pub fn heartbeat_subject(site: &str) -> String {
    format!("ef.agent.{site}.heartbeat")
}

/// A cluster membership as the agent sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMembership {
    /// Cluster id.
    pub cluster: String,
    /// Role in it.
    pub role: NodeRole,
}

/// First contact (and again whenever the controller does not know the node).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The node's id.
    pub node_id: String,
    /// Its hardware.
    pub inventory: Inventory,
}

/// Periodic liveness, carrying what the agent has applied.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    /// The node's id.
    pub node_id: String,
    /// The membership the agent runs now.
    pub applied: Option<AgentMembership>,
}

/// The controller's answer to both requests.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AgentReply {
    /// False if the controller does not know the node (the agent then registers again).
    pub known: bool,
    /// The membership the agent should apply.
    pub membership: Option<AgentMembership>,
    /// The node's lifecycle as the site sees it.
    pub lifecycle: String,
    /// Set when the request was refused.
    pub error: Option<String>,
}
