//! The runtime a site runs with (`--runtime`): simulated in the site process, or applied by every node's agent.

use super::agent_runtime::AgentRuntime;
use super::cluster_runtime::{AppsProgress, ClusterRuntime, NodePlan, Progress, RuntimeError, SimulatedRuntime};
use actors::plan::Provisioned;
use events::app::{AppRef, AppRelease};
use events::node::NodeRole;
use events::Token;
use std::rc::Rc;

/// `--runtime`: which Kubernetes the site's nodes run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeKind {
    /// Recorded by the site process, nothing installed (tests and the demo).
    #[default]
    Simulated,
    /// k3s, rendered and run by each node's agent (`edgefleet agent --k3s-binary`).
    K3s,
}

/// The site's runtime.
pub enum SiteRuntime {
    /// See [`SimulatedRuntime`].
    Simulated(SimulatedRuntime),
    /// See [`AgentRuntime`].
    Agents(Rc<AgentRuntime>),
}

impl ClusterRuntime for SiteRuntime {
    async fn provision(&self, plan: &NodePlan<'_>) -> Result<Progress, RuntimeError> {
        match self {
            SiteRuntime::Simulated(r) => r.provision(plan).await,
            SiteRuntime::Agents(r) => r.provision(plan).await,
        }
    }

    fn provisioned(&self, node: &Token) -> Option<Provisioned> {
        match self {
            SiteRuntime::Simulated(r) => r.provisioned(node),
            SiteRuntime::Agents(r) => r.provisioned(node),
        }
    }

    async fn remove(&self, node: &Token) -> Result<Progress, RuntimeError> {
        match self {
            SiteRuntime::Simulated(r) => r.remove(node).await,
            SiteRuntime::Agents(r) => r.remove(node).await,
        }
    }

    async fn install_apps(
        &self,
        cluster: &Token,
        members: &[(Token, NodeRole)],
        apps: &[(AppRef, AppRelease)],
    ) -> Result<AppsProgress, RuntimeError> {
        match self {
            SiteRuntime::Simulated(r) => r.install_apps(cluster, members, apps).await,
            SiteRuntime::Agents(r) => r.install_apps(cluster, members, apps).await,
        }
    }
}
