//! What the site planner asks the site to do: a command to one of the site's aggregates, or an effect on the
//! cluster runtime.

use crate::cluster::ClusterCommand;
use crate::node::NodeCommand;
use crate::rollout::RolloutCommand;
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::Token;

/// One step for the site's executor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteCommand {
    /// Decide a command on one of the site's nodes.
    Node {
        /// The node.
        node: Token,
        /// The command.
        command: NodeCommand,
    },
    /// Decide a command on one of the site's clusters.
    Cluster {
        /// The cluster.
        cluster: Token,
        /// The command.
        command: ClusterCommand,
    },
    /// Report on this site's companion of a rollout (`rollout/<site>/<id>`).
    Rollout {
        /// The rollout.
        rollout: Token,
        /// The report.
        command: RolloutCommand,
    },
    /// Install the node's Kubernetes role and the profile's releases through the runtime; a failure is recorded as
    /// the node's failure.
    Provision {
        /// The node.
        node: Token,
        /// Its cluster.
        cluster: Token,
        /// Its role.
        role: NodeRole,
        /// The profile to install (what the cluster runs, never a change still pending).
        profile: ProfileRef,
    },
    /// Upgrade every member's releases to `profile` after an OS update reached all of them, then report the
    /// cluster ready on it.
    UpgradeCluster {
        /// The cluster.
        cluster: Token,
        /// Its members and roles.
        members: Vec<(Token, NodeRole)>,
        /// The profile they all run now.
        profile: ProfileRef,
    },
    /// Install exactly these apps on the cluster (removing any other the runtime installed), then report them.
    InstallApps {
        /// The cluster.
        cluster: Token,
        /// Its members and roles.
        members: Vec<(Token, NodeRole)>,
        /// App name → version.
        apps: std::collections::BTreeMap<Token, events::app::AppRef>,
    },
    /// Remove the node from the runtime (uninstall).
    Uninstall {
        /// The node.
        node: Token,
    },
}

impl SiteCommand {
    /// The node a command is about, if any (for spans and for ordering).
    pub fn node(&self) -> Option<&Token> {
        match self {
            SiteCommand::Node { node, .. } | SiteCommand::Provision { node, .. } | SiteCommand::Uninstall { node } => {
                Some(node)
            }
            _ => None,
        }
    }
}
