//! The cluster aggregate: desired profile (hub) and formation, membership and health (site).
//!
//! Formation rule (DESIGN §1.3), decided at the site with or without the hub: the first node to join becomes
//! control plane; later nodes join as workers; once the cluster has more than three members, workers are promoted
//! (lowest node id first) until three carry the control plane.

use crate::aggregate::{Aggregate, DecideContext};
use crate::labels::validate_labels;
use crate::rejection::Rejection;
use events::app::AppRef;
use events::cluster::{ClusterEvent, ProfileRef};
use events::node::NodeRole;
use events::{AggregateKind, Hlc, Token, Writer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest reason kept for an app the site could not install.
pub const APP_FAILURE_MAX: usize = 400;

/// Control-plane members a cluster keeps once it is large enough.
pub const CONTROL_PLANE_QUORUM: usize = 3;

/// What the operator wants for the cluster. Changed only by hub events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSpec {
    /// Generation of the last intent.
    pub generation: u64,
    /// Desired profile version (`None` until created at the hub).
    pub profile: Option<ProfileRef>,
    /// The profile wanted before the last change, if it differed (what an aborted rollout moves the cluster back to).
    pub previous_profile: Option<ProfileRef>,
    /// Per-cluster overrides.
    pub overrides: BTreeMap<String, String>,
    /// Operator labels.
    pub labels: BTreeMap<String, String>,
    /// The operator deleted the cluster.
    pub deleted: bool,
    /// The apps the placements that chose it want it to run (app name → version).
    pub apps: BTreeMap<Token, AppRef>,
}

/// Observed health. Shown as `absent`, `forming`, `ready`, `degraded: <why>`, `removed`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterHealth {
    /// Not formed.
    #[default]
    Absent,
    /// Formed, not ready.
    Forming,
    /// Every member up.
    Ready,
    /// Unhealthy, with why.
    Degraded(String),
    /// Torn down.
    Removed,
}

impl std::fmt::Display for ClusterHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterHealth::Absent => f.write_str("absent"),
            ClusterHealth::Forming => f.write_str("forming"),
            ClusterHealth::Ready => f.write_str("ready"),
            ClusterHealth::Degraded(reason) => write!(f, "degraded: {reason}"),
            ClusterHealth::Removed => f.write_str("removed"),
        }
    }
}

/// What the site observed. Changed only by site events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStatus {
    /// Highest spec generation acted on.
    pub observed_generation: u64,
    /// Profile version running (or formed with).
    pub running_profile: Option<ProfileRef>,
    /// Members and their roles.
    pub members: BTreeMap<Token, NodeRole>,
    /// Health.
    pub health: ClusterHealth,
    /// The apps installed (app name → version), as the site last reported.
    pub apps: BTreeMap<Token, AppRef>,
    /// Apps the site could not install, and why.
    pub app_failures: BTreeMap<Token, String>,
}

/// The cluster aggregate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterState {
    /// Desired state (hub).
    pub spec: ClusterSpec,
    /// Observed state (site).
    pub status: ClusterStatus,
}

impl ClusterState {
    /// Members carrying the control plane.
    pub fn control_plane_count(&self) -> usize {
        self.status
            .members
            .values()
            .filter(|r| **r == NodeRole::ControlPlane)
            .count()
    }

    /// True once the first node formed the cluster.
    pub fn formed(&self) -> bool {
        !matches!(self.status.health, ClusterHealth::Absent | ClusterHealth::Removed)
    }

    /// Workers to promote so that `members` keeps the control-plane quorum, lowest node id first. A cluster goes
    /// highly available when it grows past three members; once it has, a control-plane member leaving (reset,
    /// unassigned, lost) is replaced by a worker while one is left. Two control-plane members are never kept when a
    /// worker can make three: an etcd of two tolerates no failure and fails twice as often as one.
    fn promotions(members: &BTreeMap<Token, NodeRole>) -> Vec<Token> {
        let control_planes = members.values().filter(|r| **r == NodeRole::ControlPlane).count();
        let wants_quorum = members.len() > CONTROL_PLANE_QUORUM || control_planes == CONTROL_PLANE_QUORUM - 1;
        if !wants_quorum || control_planes >= CONTROL_PLANE_QUORUM {
            return vec![];
        }
        members
            .iter()
            .filter(|(_, role)| **role == NodeRole::Worker)
            .map(|(node, _)| node.clone())
            .take(CONTROL_PLANE_QUORUM - control_planes)
            .collect()
    }
}

/// What can be asked of a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterCommand {
    /// Hub: create from a profile version plus overrides.
    Create {
        /// Profile version.
        profile: ProfileRef,
        /// Overrides.
        overrides: BTreeMap<String, String>,
    },
    /// Hub: move to another profile version.
    ChangeProfile(ProfileRef),
    /// Hub: replace labels.
    SetLabels(BTreeMap<String, String>),
    /// Hub: tear down.
    Delete,
    /// Hub: the apps the cluster should run (the placements' decisions).
    SetApps(BTreeMap<Token, AppRef>),
    /// Site: a node joins; `role: None` lets the formation rule choose.
    Join {
        /// The node.
        node: Token,
        /// Forced role (from an operator assignment), or `None`.
        role: Option<NodeRole>,
        /// Profile to form with if the cluster does not exist yet and has no intent (pre-baked site image).
        site_image_profile: Option<ProfileRef>,
    },
    /// Site: a node left.
    Leave(Token),
    /// Site: every member is up and runs `profile` — what the site observed installed, never what the hub wants.
    ReportReady {
        /// The profile the members run.
        profile: ProfileRef,
    },
    /// Site: unhealthy.
    ReportDegraded(String),
    /// Site: torn down after delete.
    ConfirmRemoved,
    /// Site: the apps the runtime installed, and those it could not.
    ReportApps {
        /// App name → version installed.
        installed: BTreeMap<Token, AppRef>,
        /// App name → why not.
        failures: BTreeMap<Token, String>,
    },
}

impl Aggregate for ClusterState {
    const KIND: AggregateKind = AggregateKind::Cluster;
    const STATE_VERSION: u16 = 4;
    type Event = ClusterEvent;
    type Command = ClusterCommand;

    fn apply(&mut self, event: &ClusterEvent, _at: Hlc) {
        let spec = &mut self.spec;
        let status = &mut self.status;
        match event {
            ClusterEvent::Created {
                generation,
                profile,
                overrides,
            } => {
                spec.generation = *generation;
                spec.profile = Some(profile.clone());
                spec.previous_profile = None;
                spec.overrides = overrides.clone();
                spec.deleted = false;
            }
            ClusterEvent::ProfileChanged { generation, profile } => {
                spec.generation = *generation;
                if spec.profile.as_ref() != Some(profile) {
                    spec.previous_profile = spec.profile.replace(profile.clone());
                }
            }
            ClusterEvent::LabelsSet { generation, labels } => {
                spec.generation = *generation;
                spec.labels = labels.clone();
            }
            ClusterEvent::Deleted { generation } => {
                spec.generation = *generation;
                spec.deleted = true;
            }
            ClusterEvent::AppsSet { generation, apps } => {
                spec.generation = *generation;
                spec.apps = apps.clone();
            }
            ClusterEvent::AppsReported { installed, failures } => {
                status.apps = installed.clone();
                status.app_failures = failures.clone();
            }
            ClusterEvent::Formed {
                profile,
                observed_generation,
            } => {
                status.running_profile = Some(profile.clone());
                status.health = ClusterHealth::Forming;
                status.members.clear();
                status.observed_generation = status.observed_generation.max(*observed_generation);
            }
            ClusterEvent::MemberJoined { node, role } => {
                status.members.insert(node.clone(), *role);
            }
            ClusterEvent::MemberPromoted { node } => {
                if let Some(role) = status.members.get_mut(node) {
                    *role = NodeRole::ControlPlane;
                }
            }
            ClusterEvent::MemberLeft { node } => {
                status.members.remove(node);
            }
            ClusterEvent::Ready {
                profile,
                observed_generation,
            } => {
                status.running_profile = Some(profile.clone());
                status.health = ClusterHealth::Ready;
                status.observed_generation = status.observed_generation.max(*observed_generation);
            }
            ClusterEvent::Degraded { reason } => status.health = ClusterHealth::Degraded(reason.clone()),
            ClusterEvent::Removed { observed_generation } => {
                status.health = ClusterHealth::Removed;
                status.members.clear();
                status.observed_generation = status.observed_generation.max(*observed_generation);
            }
        }
    }

    fn command_writer(command: &ClusterCommand) -> Writer {
        match command {
            ClusterCommand::Create { .. }
            | ClusterCommand::ChangeProfile(_)
            | ClusterCommand::SetLabels(_)
            | ClusterCommand::Delete
            | ClusterCommand::SetApps(_) => Writer::Hub,
            _ => Writer::Site,
        }
    }

    fn decide(&self, command: ClusterCommand, _ctx: &DecideContext<'_>) -> Result<Vec<ClusterEvent>, Rejection> {
        let next = self.spec.generation + 1;
        let observed = self.spec.generation;
        let events = match command {
            ClusterCommand::Create { profile, overrides } => match &self.spec.profile {
                Some(existing) if !self.spec.deleted => {
                    if *existing == profile && self.spec.overrides == overrides {
                        vec![]
                    } else {
                        return Err(Rejection::Conflict(format!(
                            "cluster exists with profile {existing}; change its profile instead"
                        )));
                    }
                }
                _ => vec![ClusterEvent::Created {
                    generation: next,
                    profile,
                    overrides,
                }],
            },
            ClusterCommand::ChangeProfile(profile) => match &self.spec.profile {
                None => return Err(Rejection::NotFound("cluster has not been created".into())),
                Some(_) if self.spec.deleted => return Err(Rejection::Conflict("cluster is deleted".into())),
                Some(existing) if *existing == profile => vec![],
                Some(_) => vec![ClusterEvent::ProfileChanged {
                    generation: next,
                    profile,
                }],
            },
            ClusterCommand::SetApps(apps) => {
                if self.spec.profile.is_none() && !self.formed() {
                    return Err(Rejection::NotFound("cluster does not exist".into()));
                }
                if self.spec.deleted || apps == self.spec.apps {
                    vec![]
                } else {
                    vec![ClusterEvent::AppsSet { generation: next, apps }]
                }
            }
            ClusterCommand::SetLabels(labels) => {
                validate_labels(&labels)?;
                if labels == self.spec.labels {
                    vec![]
                } else {
                    vec![ClusterEvent::LabelsSet {
                        generation: next,
                        labels,
                    }]
                }
            }
            ClusterCommand::Delete => {
                if self.spec.deleted {
                    vec![]
                } else if self.spec.profile.is_none() && !self.formed() {
                    return Err(Rejection::NotFound("cluster does not exist".into()));
                } else {
                    vec![ClusterEvent::Deleted { generation: next }]
                }
            }
            ClusterCommand::Join {
                node,
                role,
                site_image_profile,
            } => {
                if self.spec.deleted {
                    return Err(Rejection::Conflict("cluster is deleted; nodes cannot join".into()));
                }
                if self.status.members.contains_key(&node) {
                    return Ok(vec![]);
                }
                let mut events = vec![];
                let mut members = self.status.members.clone();
                let role = if !self.formed() {
                    let profile = self.spec.profile.clone().or(site_image_profile).ok_or_else(|| {
                        Rejection::NotFound("cluster has no profile: no intent and no site image profile".into())
                    })?;
                    events.push(ClusterEvent::Formed {
                        profile,
                        observed_generation: observed,
                    });
                    members.clear();
                    NodeRole::ControlPlane
                } else {
                    role.unwrap_or(NodeRole::Worker)
                };
                events.push(ClusterEvent::MemberJoined {
                    node: node.clone(),
                    role,
                });
                members.insert(node, role);
                for promoted in Self::promotions(&members) {
                    events.push(ClusterEvent::MemberPromoted { node: promoted });
                }
                events
            }
            ClusterCommand::Leave(node) => {
                if self.status.members.contains_key(&node) {
                    let mut events = vec![ClusterEvent::MemberLeft { node: node.clone() }];
                    let mut members = self.status.members.clone();
                    members.remove(&node);
                    events.extend(
                        Self::promotions(&members)
                            .into_iter()
                            .map(|n| ClusterEvent::MemberPromoted { node: n }),
                    );
                    events
                } else {
                    vec![]
                }
            }
            ClusterCommand::ReportReady { profile } => {
                if !self.formed() {
                    return Err(Rejection::Conflict("cluster has not formed".into()));
                }
                // The site acknowledges the spec only when what runs is what the spec asks for; a change still
                // pending leaves the generation unacknowledged (the drift shows).
                let acknowledged = if self.spec.profile.as_ref() == Some(&profile) || self.spec.profile.is_none() {
                    observed
                } else {
                    self.status.observed_generation
                };
                let same = self.status.health == ClusterHealth::Ready
                    && self.status.running_profile.as_ref() == Some(&profile)
                    && self.status.observed_generation >= acknowledged;
                if same {
                    vec![]
                } else {
                    vec![ClusterEvent::Ready {
                        profile,
                        observed_generation: acknowledged,
                    }]
                }
            }
            ClusterCommand::ReportApps { installed, failures } => {
                if !self.formed() {
                    return Err(Rejection::Conflict("cluster has not formed".into()));
                }
                let failures: BTreeMap<Token, String> = failures
                    .into_iter()
                    .map(|(app, why)| (app, why.chars().take(APP_FAILURE_MAX).collect()))
                    .collect();
                if installed == self.status.apps && failures == self.status.app_failures {
                    vec![]
                } else {
                    vec![ClusterEvent::AppsReported { installed, failures }]
                }
            }
            ClusterCommand::ReportDegraded(reason) => {
                if reason.trim().is_empty() {
                    return Err(Rejection::Invalid("degraded needs a reason".into()));
                }
                vec![ClusterEvent::Degraded { reason }]
            }
            ClusterCommand::ConfirmRemoved => {
                if !self.spec.deleted {
                    return Err(Rejection::Conflict(
                        "cannot confirm the removal of a cluster the hub did not delete".into(),
                    ));
                }
                if self.status.health == ClusterHealth::Removed && self.status.observed_generation >= observed {
                    vec![]
                } else if !self.status.members.is_empty() {
                    return Err(Rejection::Conflict(format!(
                        "cannot confirm the removal: {} members are still in the cluster",
                        self.status.members.len()
                    )));
                } else {
                    vec![ClusterEvent::Removed {
                        observed_generation: observed,
                    }]
                }
            }
        };
        Ok(events)
    }
}
