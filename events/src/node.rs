//! Node events: hub intents (assignment, reset, labels) and site observations (registration, joins, health).

use crate::hlc::Hlc;
use crate::origin::Writer;
use crate::token::Token;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A node's role in its cluster. Spelled `control-plane` / `worker` in JSON and YAML (postcard encodes the variant
/// index, so the spelling does not touch the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    /// Runs the control plane and workloads.
    ControlPlane,
    /// Runs workloads only.
    Worker,
}

impl NodeRole {
    /// The CLI/API spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeRole::ControlPlane => "control-plane",
            NodeRole::Worker => "worker",
        }
    }
}

impl std::fmt::Display for NodeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for NodeRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "control-plane" => Ok(NodeRole::ControlPlane),
            "worker" => Ok(NodeRole::Worker),
            other => Err(format!("role {:?} must be control-plane or worker", bounded(other))),
        }
    }
}

/// One of a node's two root partitions (the A/B pair). Spelled `ROOT-A` / `ROOT-B`, the GPT partition names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RootSlot {
    /// `ROOT-A`.
    #[serde(rename = "ROOT-A")]
    A,
    /// `ROOT-B`.
    #[serde(rename = "ROOT-B")]
    B,
}

impl RootSlot {
    /// The partition name.
    pub fn as_str(&self) -> &'static str {
        match self {
            RootSlot::A => "ROOT-A",
            RootSlot::B => "ROOT-B",
        }
    }
}

impl std::fmt::Display for RootSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RootSlot {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ROOT-A" => Ok(RootSlot::A),
            "ROOT-B" => Ok(RootSlot::B),
            other => Err(format!("root slot {:?} must be ROOT-A or ROOT-B", bounded(other))),
        }
    }
}

/// Why an A/B OS update did not take: the version attempted and what went wrong.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OsUpdateFailure {
    /// The OS version that was attempted.
    pub attempted: String,
    /// What went wrong (refused image, failed boot, failed health check).
    pub reason: String,
}

impl std::fmt::Display for OsUpdateFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "update to {} failed: {}", self.attempted, self.reason)
    }
}

/// At most 64 characters of an input echoed in an error.
fn bounded(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Hardware inventory a node reports when it registers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// `/etc/machine-id` or equivalent.
    pub machine_id: String,
    /// Logical CPUs.
    pub cpu_count: u32,
    /// Physical memory.
    pub memory_bytes: u64,
    /// Block devices.
    pub disks: Vec<Disk>,
    /// Network interfaces.
    pub nics: Vec<Nic>,
}

/// One block device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    /// Device name (`sda`, `nvme0n1`).
    pub name: String,
    /// Capacity.
    pub size_bytes: u64,
}

/// One network interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nic {
    /// Interface name (`eth0`).
    pub name: String,
    /// MAC address, lower-case colon form.
    pub mac: String,
}

/// Everything that can happen to a node. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeEvent {
    /// Hub: the operator assigned the node to a cluster with a role.
    Assigned {
        /// Spec generation this intent creates.
        generation: u64,
        /// Target cluster at the node's site.
        cluster: Token,
        /// Role in that cluster.
        role: NodeRole,
    },
    /// Hub: the operator took the node out of its cluster.
    Unassigned {
        /// Spec generation this intent creates.
        generation: u64,
    },
    /// Hub: send the node back to its bootstrap partition to start over.
    ResetRequested {
        /// Spec generation this intent creates.
        generation: u64,
    },
    /// Hub: the node's labels were replaced.
    LabelsSet {
        /// Spec generation this intent creates.
        generation: u64,
        /// The full new label set.
        labels: BTreeMap<String, String>,
    },
    /// Site: the node booted its bootstrap image and registered with its inventory.
    Registered {
        /// What the node reported about itself.
        inventory: Inventory,
    },
    /// Site: the node joined a cluster (on an assignment, or on its own when the site formed offline).
    Joined {
        /// The cluster joined.
        cluster: Token,
        /// The role it joined with.
        role: NodeRole,
        /// Spec generation acted on (0 = a local decision without an intent).
        observed_generation: u64,
    },
    /// Site: the site controller promoted the node (worker → control plane) to keep three control-plane nodes.
    RolePromoted {
        /// The new role.
        role: NodeRole,
    },
    /// Site: the node is being provisioned for its cluster.
    Provisioning {
        /// Spec generation acted on.
        observed_generation: u64,
    },
    /// Site: the node is provisioned and healthy.
    Ready {
        /// Spec generation acted on.
        observed_generation: u64,
    },
    /// Site: provisioning or health failed.
    Failed {
        /// Spec generation acted on.
        observed_generation: u64,
        /// What went wrong, for the operator.
        reason: String,
    },
    /// Site: the node left its cluster after an unassignment.
    Left {
        /// Spec generation acted on.
        observed_generation: u64,
    },
    /// Site: the node rebooted into its bootstrap partition and is unassigned again.
    ResetToBootstrap {
        /// Spec generation acted on.
        observed_generation: u64,
    },
    /// Site: heartbeats stopped; the node is considered silent since `last_seen`.
    WentSilent {
        /// Time of the last heartbeat.
        last_seen: Hlc,
    },
    /// Site: heartbeats resumed after silence.
    CameBack,
    /// Site: the node started an A/B OS update (verified image written to the inactive slot next).
    OsUpdateStarted {
        /// OS version running before.
        from_version: Option<String>,
        /// OS version being installed.
        to_version: String,
    },
    /// Site: the node booted the new slot, passed its health check and marked the slot successful.
    OsUpdated {
        /// OS version now running.
        version: String,
        /// Root slot now active (`ROOT-A` / `ROOT-B`, written from a [`RootSlot`]; a string on the wire).
        slot: String,
    },
    /// Site: the update failed (refused image, failed boot or health check); the node runs its old slot.
    OsUpdateRolledBack {
        /// OS version that was attempted.
        attempted: String,
        /// Why.
        reason: String,
        /// Root slot active after the rollback (written from a [`RootSlot`]).
        slot: String,
    },
    /// Site: the node exchanged the site's join token for its own identity (an nkey user of the site's
    /// nats-server); from now on only that key may speak for the node, until a reset revokes it.
    IdentityIssued {
        /// The node's nkey public key (`U…`); its seed never leaves the node.
        public_key: String,
    },
}

impl NodeEvent {
    /// Which side may write this event.
    pub fn writer(&self) -> Writer {
        match self {
            NodeEvent::Assigned { .. }
            | NodeEvent::Unassigned { .. }
            | NodeEvent::ResetRequested { .. }
            | NodeEvent::LabelsSet { .. } => Writer::Hub,
            _ => Writer::Site,
        }
    }

    /// Short name for histories and logs.
    pub fn name(&self) -> &'static str {
        match self {
            NodeEvent::Assigned { .. } => "NodeAssigned",
            NodeEvent::Unassigned { .. } => "NodeUnassigned",
            NodeEvent::ResetRequested { .. } => "NodeResetRequested",
            NodeEvent::LabelsSet { .. } => "NodeLabelsSet",
            NodeEvent::Registered { .. } => "NodeRegistered",
            NodeEvent::Joined { .. } => "NodeJoined",
            NodeEvent::RolePromoted { .. } => "NodeRolePromoted",
            NodeEvent::Provisioning { .. } => "NodeProvisioning",
            NodeEvent::Ready { .. } => "NodeReady",
            NodeEvent::Failed { .. } => "NodeFailed",
            NodeEvent::Left { .. } => "NodeLeft",
            NodeEvent::ResetToBootstrap { .. } => "NodeResetToBootstrap",
            NodeEvent::WentSilent { .. } => "NodeWentSilent",
            NodeEvent::CameBack => "NodeCameBack",
            NodeEvent::OsUpdateStarted { .. } => "NodeOsUpdateStarted",
            NodeEvent::OsUpdated { .. } => "NodeOsUpdated",
            NodeEvent::OsUpdateRolledBack { .. } => "NodeOsUpdateRolledBack",
            NodeEvent::IdentityIssued { .. } => "NodeIdentityIssued",
        }
    }
}
