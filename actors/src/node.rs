//! The node aggregate: spec (hub intents) and status (site observations) of one bare-metal node.

use crate::aggregate::{Aggregate, DecideContext};
use crate::labels::validate_labels;
use crate::rejection::Rejection;
use events::node::{Inventory, NodeEvent, NodeRole, OsUpdateFailure, RootSlot};
use events::{AggregateKind, Hlc, Token, Writer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A cluster membership: which cluster and with what role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The cluster.
    pub cluster: Token,
    /// The role in it.
    pub role: NodeRole,
}

/// What the operator wants for the node. Changed only by hub events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// Generation of the last intent (0 = no intent yet).
    pub generation: u64,
    /// Generation of the last intent about membership (assign, unassign, reset); labels never move membership, so
    /// the site compares only this one with what it observed.
    pub membership_generation: u64,
    /// Desired cluster membership.
    pub assignment: Option<Membership>,
    /// Generation of the last reset request (0 = never).
    pub reset_generation: u64,
    /// Operator labels.
    pub labels: BTreeMap<String, String>,
}

/// Where the node is in its own lifecycle, as the site observed it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodePhase {
    /// Never registered.
    #[default]
    Unregistered,
    /// Registered and running its bootstrap image, in no cluster.
    Bootstrap,
    /// Joined a cluster, not yet provisioned.
    Joined,
    /// Being provisioned.
    Provisioning,
    /// Provisioned and healthy.
    Ready,
    /// Provisioning or health failed.
    Failed,
}

/// What the site observed about the node. Changed only by site events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Inventory reported at registration.
    pub inventory: Option<Inventory>,
    /// When it (last) registered.
    pub registered_at: Option<Hlc>,
    /// Highest spec generation the site acted on.
    pub observed_generation: u64,
    /// Current cluster membership.
    pub membership: Option<Membership>,
    /// Lifecycle phase.
    pub phase: NodePhase,
    /// Last failure reason, while failed.
    pub failure: Option<String>,
    /// Time of the last heartbeat before the node went silent, while silent.
    pub silent_since: Option<Hlc>,
    /// OS version running (after the last successful update), if known.
    pub os_version: Option<String>,
    /// Root slot running.
    pub os_slot: Option<RootSlot>,
    /// The OS update in progress (target version), if any.
    pub os_updating_to: Option<String>,
    /// The last OS update that did not succeed.
    pub os_last_failure: Option<OsUpdateFailure>,
    /// The node's identity (nkey public key) since it joined the site; cleared by a reset, after which the node
    /// joins again with a new one.
    pub identity: Option<String>,
}

/// The node aggregate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// Desired state (hub).
    pub spec: NodeSpec,
    /// Observed state (site).
    pub status: NodeStatus,
}

/// The operator-facing lifecycle: unassigned → assigned → provisioning → ready, plus failed and resetting. Spelled in
/// lower case on every boundary (`unassigned`, `ready`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeLifecycle {
    /// Not registered.
    Unregistered,
    /// Registered, in no cluster and wanted in none.
    Unassigned,
    /// Wanted in (or joined to) a cluster, not provisioning yet.
    Assigned,
    /// Being provisioned.
    Provisioning,
    /// Ready.
    Ready,
    /// Failed.
    Failed,
    /// A reset was asked for and the site has not done it yet.
    Resetting,
}

impl NodeLifecycle {
    /// Every lifecycle state.
    pub const ALL: [NodeLifecycle; 7] = [
        NodeLifecycle::Unregistered,
        NodeLifecycle::Unassigned,
        NodeLifecycle::Assigned,
        NodeLifecycle::Provisioning,
        NodeLifecycle::Ready,
        NodeLifecycle::Failed,
        NodeLifecycle::Resetting,
    ];

    /// The spelling on the wire and in tables.
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeLifecycle::Unregistered => "unregistered",
            NodeLifecycle::Unassigned => "unassigned",
            NodeLifecycle::Assigned => "assigned",
            NodeLifecycle::Provisioning => "provisioning",
            NodeLifecycle::Ready => "ready",
            NodeLifecycle::Failed => "failed",
            NodeLifecycle::Resetting => "resetting",
        }
    }
}

impl std::fmt::Display for NodeLifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for NodeLifecycle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.as_str() == lower).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(NodeLifecycle::as_str).collect();
            format!(
                "state {:?} must be one of {}",
                s.chars().take(32).collect::<String>(),
                names.join(", ")
            )
        })
    }
}

impl NodeState {
    /// The lifecycle derived from spec and status.
    pub fn lifecycle(&self) -> NodeLifecycle {
        if self.status.inventory.is_none() {
            return NodeLifecycle::Unregistered;
        }
        if self.spec.reset_generation > self.status.observed_generation {
            return NodeLifecycle::Resetting;
        }
        match self.status.phase {
            NodePhase::Failed => NodeLifecycle::Failed,
            NodePhase::Ready => NodeLifecycle::Ready,
            NodePhase::Provisioning => NodeLifecycle::Provisioning,
            _ if self.spec.assignment.is_some() || self.status.membership.is_some() => NodeLifecycle::Assigned,
            _ => NodeLifecycle::Unassigned,
        }
    }

    /// True while the site has not yet acted on the latest intent about membership (spec and status drift). Labels
    /// are the hub's metadata and need no acknowledgement, so they never make a node drift.
    pub fn drifting(&self) -> bool {
        self.spec.membership_generation > self.status.observed_generation
    }

    fn require_registered(&self, what: &str) -> Result<(), Rejection> {
        match self.status.inventory {
            Some(_) => Ok(()),
            None => Err(Rejection::NotFound(format!(
                "cannot {what}: the node has not registered"
            ))),
        }
    }

    fn require_membership(&self, what: &str) -> Result<&Membership, Rejection> {
        self.status
            .membership
            .as_ref()
            .ok_or_else(|| Rejection::Conflict(format!("cannot {what}: the node is in no cluster")))
    }
}

/// What can be asked of a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeCommand {
    /// Hub: assign to a cluster with a role.
    Assign {
        /// Target cluster.
        cluster: Token,
        /// Role.
        role: NodeRole,
    },
    /// Hub: take out of its cluster.
    Unassign,
    /// Hub: send back to bootstrap.
    Reset,
    /// Hub: replace labels.
    SetLabels(BTreeMap<String, String>),
    /// Site: the agent registered with its inventory.
    Register(Inventory),
    /// Site: join a cluster with a role.
    Join {
        /// The cluster.
        cluster: Token,
        /// Role.
        role: NodeRole,
    },
    /// Site: promote to control plane.
    Promote,
    /// Site: provisioning started.
    ReportProvisioning,
    /// Site: provisioned and healthy.
    ReportReady,
    /// Site: provisioning or health failed.
    ReportFailed(String),
    /// Site: left the cluster.
    Leave,
    /// Site: rebooted into bootstrap after a reset.
    CompleteReset,
    /// Site: heartbeats stopped.
    MarkSilent {
        /// Last heartbeat time.
        last_seen: Hlc,
    },
    /// Site: heartbeats resumed.
    MarkBack,
    /// Site: the agent started updating the OS to this version.
    ReportOsUpdateStarted(String),
    /// Site: the agent runs this version from this slot after a successful update.
    ReportOsUpdated {
        /// Version.
        version: String,
        /// Slot.
        slot: RootSlot,
    },
    /// Site: an update was rolled back.
    ReportOsRolledBack {
        /// What was attempted and why it failed.
        failure: OsUpdateFailure,
        /// Slot running after the rollback.
        slot: RootSlot,
    },
    /// Site: the node joined with this nkey public key.
    IssueIdentity(String),
}

impl Aggregate for NodeState {
    const KIND: AggregateKind = AggregateKind::Node;
    const STATE_VERSION: u16 = 4;
    type Event = NodeEvent;
    type Command = NodeCommand;

    fn apply(&mut self, event: &NodeEvent, at: Hlc) {
        let spec = &mut self.spec;
        let status = &mut self.status;
        match event {
            NodeEvent::Assigned {
                generation,
                cluster,
                role,
            } => {
                spec.generation = *generation;
                spec.membership_generation = *generation;
                spec.assignment = Some(Membership {
                    cluster: cluster.clone(),
                    role: *role,
                });
            }
            NodeEvent::Unassigned { generation } => {
                spec.generation = *generation;
                spec.membership_generation = *generation;
                spec.assignment = None;
            }
            NodeEvent::ResetRequested { generation } => {
                spec.generation = *generation;
                spec.membership_generation = *generation;
                spec.assignment = None;
                spec.reset_generation = *generation;
            }
            NodeEvent::LabelsSet { generation, labels } => {
                spec.generation = *generation;
                spec.labels = labels.clone();
            }
            NodeEvent::Registered { inventory } => {
                status.inventory = Some(inventory.clone());
                status.registered_at = Some(at);
                if status.phase == NodePhase::Unregistered {
                    status.phase = NodePhase::Bootstrap;
                }
            }
            NodeEvent::Joined {
                cluster,
                role,
                observed_generation,
            } => {
                status.membership = Some(Membership {
                    cluster: cluster.clone(),
                    role: *role,
                });
                status.phase = NodePhase::Joined;
                status.failure = None;
                status.observed_generation = status.observed_generation.max(*observed_generation);
            }
            NodeEvent::RolePromoted { role } => {
                if let Some(m) = status.membership.as_mut() {
                    m.role = *role;
                }
            }
            NodeEvent::Provisioning { observed_generation } => {
                status.phase = NodePhase::Provisioning;
                status.observed_generation = status.observed_generation.max(*observed_generation);
            }
            NodeEvent::Ready { observed_generation } => {
                status.phase = NodePhase::Ready;
                status.failure = None;
                status.observed_generation = status.observed_generation.max(*observed_generation);
            }
            NodeEvent::Failed {
                observed_generation,
                reason,
            } => {
                status.phase = NodePhase::Failed;
                status.failure = Some(reason.clone());
                status.observed_generation = status.observed_generation.max(*observed_generation);
            }
            NodeEvent::Left { observed_generation } | NodeEvent::ResetToBootstrap { observed_generation } => {
                if matches!(event, NodeEvent::ResetToBootstrap { .. }) {
                    // A reset revokes the node's identity: it joins again with a new one.
                    status.identity = None;
                }
                status.membership = None;
                status.phase = NodePhase::Bootstrap;
                status.failure = None;
                status.observed_generation = status.observed_generation.max(*observed_generation);
            }
            NodeEvent::WentSilent { last_seen } => status.silent_since = Some(*last_seen),
            NodeEvent::CameBack => status.silent_since = None,
            NodeEvent::OsUpdateStarted { to_version, .. } => status.os_updating_to = Some(to_version.clone()),
            NodeEvent::OsUpdated { version, slot } => {
                status.os_version = Some(version.clone());
                status.os_slot = slot.parse().ok();
                status.os_updating_to = None;
                status.os_last_failure = None;
            }
            NodeEvent::OsUpdateRolledBack {
                attempted,
                reason,
                slot,
            } => {
                status.os_slot = slot.parse().ok();
                status.os_updating_to = None;
                status.os_last_failure = Some(OsUpdateFailure {
                    attempted: attempted.clone(),
                    reason: reason.clone(),
                });
            }
            NodeEvent::IdentityIssued { public_key } => status.identity = Some(public_key.clone()),
        }
    }

    fn command_writer(command: &NodeCommand) -> Writer {
        match command {
            NodeCommand::Assign { .. } | NodeCommand::Unassign | NodeCommand::Reset | NodeCommand::SetLabels(_) => {
                Writer::Hub
            }
            _ => Writer::Site,
        }
    }

    fn decide(&self, command: NodeCommand, _ctx: &DecideContext<'_>) -> Result<Vec<NodeEvent>, Rejection> {
        let next = self.spec.generation + 1;
        // What a site event acknowledges: the membership intent it acted on (labels need no acknowledgement).
        let observed = self.spec.membership_generation;
        let events = match command {
            NodeCommand::Assign { cluster, role } => {
                self.require_registered("assign")?;
                match &self.spec.assignment {
                    Some(m) if m.cluster == cluster && m.role == role => vec![],
                    Some(m) if m.cluster != cluster => {
                        return Err(Rejection::Conflict(format!(
                            "node is assigned to cluster {}; unassign it first",
                            m.cluster
                        )))
                    }
                    _ => vec![NodeEvent::Assigned {
                        generation: next,
                        cluster,
                        role,
                    }],
                }
            }
            NodeCommand::Unassign => {
                if self.spec.assignment.is_none() && self.status.membership.is_none() {
                    vec![]
                } else {
                    vec![NodeEvent::Unassigned { generation: next }]
                }
            }
            NodeCommand::Reset => {
                self.require_registered("reset")?;
                vec![NodeEvent::ResetRequested { generation: next }]
            }
            NodeCommand::SetLabels(labels) => {
                validate_labels(&labels)?;
                if labels == self.spec.labels {
                    vec![]
                } else {
                    vec![NodeEvent::LabelsSet {
                        generation: next,
                        labels,
                    }]
                }
            }
            NodeCommand::Register(inventory) => {
                if self.status.inventory.as_ref() == Some(&inventory) {
                    vec![]
                } else {
                    vec![NodeEvent::Registered { inventory }]
                }
            }
            NodeCommand::Join { cluster, role } => {
                self.require_registered("join a cluster")?;
                let same = Membership {
                    cluster: cluster.clone(),
                    role,
                };
                if self.status.membership.as_ref() == Some(&same) && self.status.observed_generation >= observed {
                    vec![]
                } else {
                    vec![NodeEvent::Joined {
                        cluster,
                        role,
                        observed_generation: observed,
                    }]
                }
            }
            NodeCommand::Promote => match self.require_membership("promote")?.role {
                NodeRole::ControlPlane => vec![],
                NodeRole::Worker => vec![NodeEvent::RolePromoted {
                    role: NodeRole::ControlPlane,
                }],
            },
            NodeCommand::ReportProvisioning => {
                self.require_membership("provision")?;
                match self.status.phase {
                    NodePhase::Provisioning if self.status.observed_generation >= observed => {
                        vec![]
                    }
                    _ => vec![NodeEvent::Provisioning {
                        observed_generation: observed,
                    }],
                }
            }
            NodeCommand::ReportReady => {
                self.require_membership("be ready")?;
                match self.status.phase {
                    NodePhase::Ready if self.status.observed_generation >= observed => vec![],
                    _ => vec![NodeEvent::Ready {
                        observed_generation: observed,
                    }],
                }
            }
            NodeCommand::ReportFailed(reason) => {
                if reason.trim().is_empty() {
                    return Err(Rejection::Invalid("a failure needs a reason".into()));
                }
                vec![NodeEvent::Failed {
                    observed_generation: observed,
                    reason,
                }]
            }
            NodeCommand::Leave => match self.status.membership {
                None => vec![],
                Some(_) => vec![NodeEvent::Left {
                    observed_generation: observed,
                }],
            },
            NodeCommand::CompleteReset => {
                self.require_registered("reset")?;
                vec![NodeEvent::ResetToBootstrap {
                    observed_generation: observed,
                }]
            }
            NodeCommand::MarkSilent { last_seen } => match self.status.silent_since {
                Some(_) => vec![],
                None => vec![NodeEvent::WentSilent { last_seen }],
            },
            NodeCommand::MarkBack => match self.status.silent_since {
                Some(_) => vec![NodeEvent::CameBack],
                None => vec![],
            },
            NodeCommand::ReportOsUpdateStarted(to_version) => {
                self.require_registered("update")?;
                if self.status.os_updating_to.as_ref() == Some(&to_version) {
                    vec![]
                } else {
                    vec![NodeEvent::OsUpdateStarted {
                        from_version: self.status.os_version.clone(),
                        to_version,
                    }]
                }
            }
            NodeCommand::ReportOsUpdated { version, slot } => {
                let same = self.status.os_version.as_ref() == Some(&version)
                    && self.status.os_slot == Some(slot)
                    && self.status.os_updating_to.is_none();
                if same {
                    vec![]
                } else {
                    vec![NodeEvent::OsUpdated {
                        version,
                        slot: slot.as_str().to_string(),
                    }]
                }
            }
            NodeCommand::IssueIdentity(public_key) => {
                if !is_user_public_key(&public_key) {
                    return Err(Rejection::Invalid(
                        "a node identity is an nkey user public key (U followed by 55 base32 characters)".into(),
                    ));
                }
                match &self.status.identity {
                    Some(current) if *current == public_key => vec![],
                    Some(_) => {
                        return Err(Rejection::Conflict(
                            "the node already joined with another identity; a reset of the node lets it join again"
                                .into(),
                        ))
                    }
                    None => vec![NodeEvent::IdentityIssued { public_key }],
                }
            }
            NodeCommand::ReportOsRolledBack { failure, slot } => {
                if failure.reason.trim().is_empty() {
                    return Err(Rejection::Invalid("a rollback needs a reason".into()));
                }
                let same = self.status.os_updating_to.is_none()
                    && self.status.os_last_failure.as_ref() == Some(&failure)
                    && self.status.os_slot == Some(slot);
                if same {
                    vec![]
                } else {
                    vec![NodeEvent::OsUpdateRolledBack {
                        attempted: failure.attempted,
                        reason: failure.reason,
                        slot: slot.as_str().to_string(),
                    }]
                }
            }
        };
        Ok(events)
    }
}

/// True if `key` looks like an nkey user public key: `U` and 55 more characters of base32 (the site's endpoint
/// checks the checksum before it asks; this keeps junk out of the log whoever asks).
fn is_user_public_key(key: &str) -> bool {
    key.len() == 56
        && key.starts_with('U')
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}
