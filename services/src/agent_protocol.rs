//! The node agent ↔ site protocol: JSON request/reply on the site's own nats-server.
//!
//! Subjects are scoped by site (`ef.agent.<site>.register|heartbeat`) because core NATS interest crosses the leaf
//! link: an unscoped subject could be answered by another site. An agent learns its site from the JetStream domain
//! of the server it connects to. Fields are typed (node ids are tokens, slots `ROOT-A`/`ROOT-B`), so a malformed
//! request is refused when it is read.

use actors::node::NodeLifecycle;
use events::node::{Inventory, NodeRole, OsUpdateFailure, RootSlot};
use events::Token;
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
    pub cluster: Token,
    /// Role in it.
    pub role: NodeRole,
}

/// First contact (and again whenever the site does not know the node).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The node's id.
    pub node_id: Token,
    /// Its hardware.
    pub inventory: Inventory,
}

/// Periodic liveness, carrying what the agent has applied and runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    /// The node's id.
    pub node_id: Token,
    /// The membership the agent runs now.
    pub applied: Option<AgentMembership>,
    /// The OS it runs.
    #[serde(default)]
    pub os: Option<AgentOs>,
}

/// What OS a node runs, and how its last update ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentOs {
    /// Version running (`None`: the bootstrap image, never updated).
    pub version: Option<String>,
    /// Active root slot, when the agent could read it.
    pub slot: Option<RootSlot>,
    /// The last update attempt that was rolled back.
    pub failure: Option<OsUpdateFailure>,
}

/// An OS image the node should run, in the site's image bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsTarget {
    /// Version.
    pub version: String,
    /// Object name in the site's `ef-images` bucket.
    pub object: String,
    /// Expected sha256 (hex).
    pub sha256: String,
}

/// The site's answer to both requests.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AgentReply {
    /// False if the site does not know the node (the agent then registers again).
    pub known: bool,
    /// The membership the agent should apply.
    pub membership: Option<AgentMembership>,
    /// The node's lifecycle as the site sees it.
    pub lifecycle: Option<NodeLifecycle>,
    /// Set when the request was refused or the node failed.
    pub error: Option<String>,
    /// The OS the node should run (absent: keep what it runs).
    #[serde(default)]
    pub os_target: Option<OsTarget>,
}
