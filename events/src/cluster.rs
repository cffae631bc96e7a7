//! Cluster events: hub intents (create, profile, delete) and site decisions (formed, joins, promotions, ready).

use crate::node::NodeRole;
use crate::origin::Writer;
use crate::token::Token;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A profile at one immutable version: `name@version`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProfileRef {
    /// Profile name.
    pub name: Token,
    /// Profile version (1-based, immutable once published).
    pub version: u32,
}

impl std::fmt::Display for ProfileRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// Why a string is not `NAME@VERSION`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileRefError {
    /// No `@`.
    #[error("profile {0:?} must be NAME@VERSION, e.g. edge-stack@2")]
    Shape(String),
    /// The version is not a positive number.
    #[error("profile version {0:?} must be a positive number")]
    Version(String),
    /// The name is not a valid identifier.
    #[error("profile name: {0}")]
    Name(#[from] crate::token::TokenError),
}

impl std::str::FromStr for ProfileRef {
    type Err = ProfileRefError;

    /// Parses `NAME@VERSION` — the one place a profile reference is read from text (CLI, API, manifests, flags).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown = || s.chars().take(80).collect::<String>();
        let (name, version) = s.split_once('@').ok_or_else(|| ProfileRefError::Shape(shown()))?;
        let version = match version.parse::<u32>() {
            Ok(v) if v >= 1 => v,
            _ => return Err(ProfileRefError::Version(version.chars().take(20).collect())),
        };
        Ok(ProfileRef {
            name: Token::new(name)?,
            version,
        })
    }
}

/// Everything that can happen to a cluster. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterEvent {
    /// Hub: the operator created the cluster at a site from a profile version plus overrides.
    Created {
        /// Spec generation this intent creates.
        generation: u64,
        /// Profile version to run.
        profile: ProfileRef,
        /// Per-cluster overrides (`layer.key` → value).
        overrides: BTreeMap<String, String>,
    },
    /// Hub: the cluster should move to another profile version.
    ProfileChanged {
        /// Spec generation this intent creates.
        generation: u64,
        /// New profile version.
        profile: ProfileRef,
    },
    /// Hub: the cluster's labels were replaced.
    LabelsSet {
        /// Spec generation this intent creates.
        generation: u64,
        /// The full new label set.
        labels: BTreeMap<String, String>,
    },
    /// Hub: the cluster should be torn down.
    Deleted {
        /// Spec generation this intent creates.
        generation: u64,
    },
    /// Site: the first node came up as control plane and the cluster exists.
    Formed {
        /// Profile version it was formed with (from the intent or the pre-baked site image).
        profile: ProfileRef,
        /// Spec generation acted on (0 = formed offline from the site image).
        observed_generation: u64,
    },
    /// Site: a node joined.
    MemberJoined {
        /// The node.
        node: Token,
        /// Its role on joining.
        role: NodeRole,
    },
    /// Site: a worker was promoted to control plane.
    MemberPromoted {
        /// The node.
        node: Token,
    },
    /// Site: a node left.
    MemberLeft {
        /// The node.
        node: Token,
    },
    /// Site: every member is up and the cluster runs `profile`.
    Ready {
        /// Profile version running.
        profile: ProfileRef,
        /// Spec generation acted on.
        observed_generation: u64,
    },
    /// Site: the cluster is unhealthy.
    Degraded {
        /// What is wrong.
        reason: String,
    },
    /// Site: the cluster was torn down after a delete.
    Removed {
        /// Spec generation acted on.
        observed_generation: u64,
    },
    /// Hub: the apps the cluster should run, as the placements that chose it decided (app name → version).
    AppsSet {
        /// Spec generation this intent creates.
        generation: u64,
        /// The full new set.
        apps: BTreeMap<Token, crate::app::AppRef>,
    },
    /// Site: the apps the runtime installed on the cluster, and those it could not install and why.
    AppsReported {
        /// App name → the version installed.
        installed: BTreeMap<Token, crate::app::AppRef>,
        /// App name → why it is not installed (bounded).
        failures: BTreeMap<Token, String>,
    },
}

impl ClusterEvent {
    /// Which side may write this event.
    pub fn writer(&self) -> Writer {
        match self {
            ClusterEvent::Created { .. }
            | ClusterEvent::ProfileChanged { .. }
            | ClusterEvent::LabelsSet { .. }
            | ClusterEvent::Deleted { .. }
            | ClusterEvent::AppsSet { .. } => Writer::Hub,
            _ => Writer::Site,
        }
    }

    /// Short name for histories and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ClusterEvent::Created { .. } => "ClusterCreated",
            ClusterEvent::ProfileChanged { .. } => "ClusterProfileChanged",
            ClusterEvent::LabelsSet { .. } => "ClusterLabelsSet",
            ClusterEvent::Deleted { .. } => "ClusterDeleted",
            ClusterEvent::Formed { .. } => "ClusterFormed",
            ClusterEvent::MemberJoined { .. } => "ClusterMemberJoined",
            ClusterEvent::MemberPromoted { .. } => "ClusterMemberPromoted",
            ClusterEvent::MemberLeft { .. } => "ClusterMemberLeft",
            ClusterEvent::Ready { .. } => "ClusterReady",
            ClusterEvent::Degraded { .. } => "ClusterDegraded",
            ClusterEvent::Removed { .. } => "ClusterRemoved",
            ClusterEvent::AppsSet { .. } => "ClusterAppsSet",
            ClusterEvent::AppsReported { .. } => "ClusterAppsReported",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_refs_parse_from_name_at_version() {
        let parsed: ProfileRef = "edge-stack@2".parse().expect("valid");
        assert_eq!(parsed.to_string(), "edge-stack@2");
        for bad in ["edge-stack", "edge-stack@0", "edge-stack@x", "Edge@1", "@1"] {
            assert!(bad.parse::<ProfileRef>().is_err(), "{bad}");
        }
    }
}
