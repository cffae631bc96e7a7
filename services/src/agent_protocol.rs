//! The node agent ↔ site protocol: JSON request/reply on the site's own nats-server.
//!
//! Subjects are scoped by site and node (`ef.agent.<site>.<node>.register|heartbeat`): the site's nats-server lets
//! each node's identity publish only its own node's subjects, so the node a request speaks for is the one its
//! subject names, and a body naming another node is refused. A node without an identity yet exchanges the site's
//! join token for one on `ef.agent.<site>.join`. An agent learns its site from the JetStream domain of the server
//! it connects to. Fields are typed (node ids are tokens, slots `ROOT-A`/`ROOT-B`), so a malformed request is
//! refused when it is read.

use actors::node::NodeLifecycle;
use actors::plan::ClusterJoin;
use events::app::{AppRef, AppRelease};
use events::cluster::ProfileRef;
use events::node::{Inventory, NodeRole, OsUpdateFailure, RootSlot};
use events::profile::ProfileLayers;
use events::Token;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Subject node `node` registers on.
pub fn register_subject(site: &str, node: &str) -> String {
    format!("ef.agent.{site}.{node}.register")
}

/// Subject node `node` heartbeats on.
pub fn heartbeat_subject(site: &str, node: &str) -> String {
    format!("ef.agent.{site}.{node}.heartbeat")
}

/// Subject node `node` sends its metric batches on (a `telemetry::MetricBatch`, framed, as the request body; the
/// site stores it in its telemetry stream and answers a [`TelemetryReply`]).
pub fn telemetry_request_subject(site: &str, node: &str) -> String {
    format!("ef.agent.{site}.{node}.telemetry")
}

/// Subject node `node` sends its own log lines on (a `telemetry::LogBatch`, framed, with a `Nats-Msg-Id` that stays
/// the same when the batch is sent again; the site answers a [`TelemetryReply`]).
pub fn logs_request_subject(site: &str, node: &str) -> String {
    format!("ef.agent.{site}.{node}.logs")
}

/// The node id reserved for the site process's own telemetry (`ef.tel.<site>.site.logs`): no node may join as it.
pub const SITE_PROCESS_NODE: &str = "site";

/// The site's answer to a metric batch or a log batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryReply {
    /// True once the batch is in the site's telemetry stream (or was already: a resend).
    pub stored: bool,
    /// Why not.
    pub error: Option<String>,
    /// True if not stored for a passing reason (the stream did not answer): send it again later. False with an
    /// error: the batch itself was refused, and would be again.
    #[serde(default)]
    pub retry: bool,
}

/// What the site listens on for `verb` (`register`, `heartbeat` or `telemetry`) of every node.
pub fn every_node_subject(site: &str, verb: &str) -> String {
    format!("ef.agent.{site}.*.{verb}")
}

/// The node a request on `subject` speaks for (`ef.agent.<site>.<node>.<verb>`).
pub fn node_of_subject(subject: &str) -> Option<Token> {
    let mut tokens = subject.split('.');
    match (
        tokens.next(),
        tokens.next(),
        tokens.next(),
        tokens.next(),
        tokens.next(),
    ) {
        (Some("ef"), Some("agent"), Some(_site), Some(node), Some(_verb)) => Token::new(node).ok(),
        _ => None,
    }
}

/// A node asks for its identity: its own nkey public key (the seed stays on the node).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The node's id.
    pub node_id: Token,
    /// The nkey public key the node will connect with (`U…`).
    pub public_key: String,
}

/// The site's answer to a join: accepted once the site's nats-server lets the key in.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct JoinReply {
    /// True if the node may now connect with its key.
    pub accepted: bool,
    /// Why not.
    pub error: Option<String>,
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
    /// The reset (its generation) the agent carried out: it wiped its membership, and confirms it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_done: Option<u64>,
    /// The machine's address on the site's network, when the agent knows it (others join its Kubernetes there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// What the machine's Kubernetes runtime runs, on sites whose runtime each agent applies (k3s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeReport>,
}

/// What the machine's Kubernetes runs and how the last attempt ended, as its agent reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeReport {
    /// What runs (applied and started), if anything.
    pub installed: Option<RuntimeInstalled>,
    /// The last assignment the agent could not carry out, and why (cleared once one succeeds).
    pub failure: Option<RuntimeFailure>,
    /// Apps of the assignment the agent could not render, and why (the others run).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub app_failures: BTreeMap<Token, String>,
}

/// Kubernetes as it runs on the machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeInstalled {
    /// The cluster.
    pub cluster: Token,
    /// The role.
    pub role: NodeRole,
    /// The profile whose releases are rendered.
    pub profile: ProfileRef,
    /// The apps rendered (servers only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub apps: BTreeMap<Token, AppRef>,
}

/// An assignment the agent could not carry out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeFailure {
    /// The cluster.
    pub cluster: Token,
    /// The profile it was asked to run.
    pub profile: ProfileRef,
    /// Why not (bounded by the agent).
    pub reason: String,
}

/// What the machine's Kubernetes should run, sent to agents of sites whose runtime each agent applies (k3s).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeAssignment {
    /// The cluster.
    pub cluster: Token,
    /// The role.
    pub role: NodeRole,
    /// The profile to run.
    pub profile: ProfileRef,
    /// Its layers (absent: the site does not hold them yet; the agent waits).
    pub layers: Option<ProfileLayers>,
    /// Initialise the cluster, join a running server, or wait.
    pub join: ClusterJoin,
    /// The apps placed on the cluster, for a control-plane member to render (workers get none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AssignedApp>,
}

/// One app a control-plane member renders for its cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedApp {
    /// The app at its version.
    pub app: AppRef,
    /// What it installs.
    pub release: AppRelease,
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
    /// A reset to carry out (its generation): wipe the membership and confirm with `reset_done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<u64>,
    /// What the machine's Kubernetes should run (sites whose runtime each agent applies; absent: run nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeAssignment>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_speaks_for_the_node_its_subject_names() {
        assert_eq!(
            node_of_subject(&heartbeat_subject("s1", "n1")),
            Some(Token::new("n1").unwrap())
        );
        assert_eq!(
            node_of_subject(&register_subject("s1", "n2")),
            Some(Token::new("n2").unwrap())
        );
        assert_eq!(node_of_subject("ef.agent.s1.join"), None);
        assert_eq!(node_of_subject("ef.agent.s1.N!.heartbeat"), None);
        assert_eq!(node_of_subject("ef.site.s1.node.n1.x"), None);
    }
}
