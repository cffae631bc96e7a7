//! The runtime of sites whose machines each run their own Kubernetes (`--runtime k3s`): the site does not install
//! anything itself. What the planner asks of a node becomes that node's [`RuntimeAssignment`], sent in every
//! heartbeat reply; the node's agent renders and runs k3s on its machine and reports back; the report is what this
//! runtime says is provisioned.
//!
//! What it keeps in memory is only the planner's latest ask per node, asked again on every plan that still needs it,
//! so a restarted site rebuilds it within a planner pass; between asks, replies fall back to what the log says the
//! node runs (its membership and its cluster's profile).

use super::cluster_runtime::{AppsProgress, ClusterRuntime, NodePlan, Progress, RuntimeError};
use super::observer::SiteObserver;
use crate::agent_protocol::{AssignedApp, RuntimeAssignment, RuntimeInstalled};
use actors::fleet_state::FleetState;
use actors::plan::{plan_cluster_join, Provisioned};
use events::app::{AppRef, AppRelease};
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::profile::ProfileLayers;
use events::Token;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

/// What the planner last asked of a node.
#[derive(Clone, Debug)]
struct Asked {
    cluster: Token,
    role: NodeRole,
    profile: ProfileRef,
    layers: Option<ProfileLayers>,
}

/// Hands each node's Kubernetes to its agent.
pub struct AgentRuntime {
    observer: Rc<SiteObserver>,
    silent_after: Duration,
    asked: RefCell<BTreeMap<Token, Asked>>,
    /// The planner's latest apps per cluster.
    asked_apps: RefCell<BTreeMap<Token, Vec<(AppRef, AppRelease)>>>,
}

impl AgentRuntime {
    /// A runtime reading agents' reports from `observer`; an agent not heard for `silent_after` cannot be waited for.
    pub fn new(observer: Rc<SiteObserver>, silent_after: Duration) -> Self {
        Self {
            observer,
            silent_after,
            asked: RefCell::new(BTreeMap::new()),
            asked_apps: RefCell::new(BTreeMap::new()),
        }
    }

    /// What `node`'s Kubernetes should run, for its heartbeat reply: nothing unless the log holds it as a member of
    /// a live cluster; the planner's latest ask while one is under way (an install or an upgrade), else the cluster's
    /// profile; and how it joins its cluster.
    pub fn assignment(&self, fleet: &FleetState, site: &Token, node: &Token) -> Option<RuntimeAssignment> {
        let state = fleet.node(site, node)?;
        if state.spec.reset_generation > state.status.observed_generation {
            return None; // being reset: its Kubernetes goes
        }
        let membership = state.status.membership.as_ref()?;
        let cluster = fleet.cluster(site, &membership.cluster).filter(|c| !c.spec.deleted)?;
        let role = *cluster.status.members.get(node)?;
        let asked = self
            .asked
            .borrow()
            .get(node)
            .filter(|a| a.cluster == membership.cluster && a.role == role)
            .cloned();
        let (profile, layers) = match asked {
            Some(asked) => (asked.profile, asked.layers),
            None => {
                let profile = cluster
                    .status
                    .running_profile
                    .clone()
                    .or_else(|| cluster.spec.profile.clone())?;
                let layers = fleet.profile_layers(&profile).cloned();
                (profile, layers)
            }
        };
        let seen = self.observer.members_seen(self.silent_after);
        let join = plan_cluster_join(node, role, &membership.cluster, cluster, &seen);
        // Servers render the apps: the planner's latest ask, else what the site last reported installed.
        let apps = match role {
            NodeRole::Worker => vec![],
            NodeRole::ControlPlane => match self.asked_apps.borrow().get(&membership.cluster) {
                Some(asked) => asked
                    .iter()
                    .map(|(app, release)| AssignedApp {
                        app: app.clone(),
                        release: release.clone(),
                    })
                    .collect(),
                None => cluster
                    .status
                    .apps
                    .values()
                    .filter_map(|app| {
                        let release = fleet.app_release(app)?.clone();
                        Some(AssignedApp {
                            app: app.clone(),
                            release,
                        })
                    })
                    .collect(),
            },
        };
        Some(RuntimeAssignment {
            cluster: membership.cluster.clone(),
            role,
            profile,
            layers,
            join,
            apps,
        })
    }

    fn installed(
        &self,
        node: &Token,
    ) -> Option<(
        Option<RuntimeInstalled>,
        Option<crate::agent_protocol::RuntimeFailure>,
        Duration,
    )> {
        let (report, heard_ago) = self.observer.runtime(node)?;
        Some((report.installed, report.failure, heard_ago))
    }
}

impl ClusterRuntime for AgentRuntime {
    async fn provision(&self, plan: &NodePlan<'_>) -> Result<Progress, RuntimeError> {
        let asked = Asked {
            cluster: plan.cluster.clone(),
            role: plan.role,
            profile: plan.profile.clone(),
            layers: plan.layers.cloned(),
        };
        self.asked.borrow_mut().insert(plan.node.clone(), asked);
        let Some((installed, failure, _)) = self.installed(plan.node) else {
            return Ok(Progress::Pending(format!(
                "waiting for {}'s agent to report its Kubernetes",
                plan.node
            )));
        };
        if installed
            .as_ref()
            .is_some_and(|i| i.cluster == *plan.cluster && i.role == plan.role && i.profile == *plan.profile)
        {
            return Ok(Progress::Done);
        }
        if let Some(failure) = failure.filter(|f| f.cluster == *plan.cluster && f.profile == *plan.profile) {
            return Err(RuntimeError(failure.reason));
        }
        Ok(Progress::Pending(format!(
            "waiting for {}'s agent to run {} as {} of {}",
            plan.node,
            plan.profile,
            plan.role.as_str(),
            plan.cluster
        )))
    }

    fn provisioned(&self, node: &Token) -> Option<Provisioned> {
        let (installed, _, _) = self.installed(node)?;
        let installed = installed?;
        Some(Provisioned {
            cluster: installed.cluster,
            role: installed.role,
            profile: installed.profile,
        })
    }

    async fn install_apps(
        &self,
        cluster: &Token,
        members: &[(Token, NodeRole)],
        apps: &[(AppRef, AppRelease)],
    ) -> Result<AppsProgress, RuntimeError> {
        self.asked_apps.borrow_mut().insert(cluster.clone(), apps.to_vec());
        let wanted: BTreeMap<Token, AppRef> = apps.iter().map(|(a, _)| (a.name.clone(), a.clone())).collect();
        let servers: Vec<&Token> = members
            .iter()
            .filter(|(_, role)| *role == NodeRole::ControlPlane)
            .map(|(node, _)| node)
            .collect();
        if servers.is_empty() {
            return Ok(AppsProgress::Pending(format!(
                "cluster {cluster} has no control-plane member to run its apps"
            )));
        }
        let mut failures = BTreeMap::new();
        let mut behind = Vec::new();
        for server in servers {
            let Some((report, _)) = self.observer.runtime(server) else {
                behind.push(server.to_string());
                continue;
            };
            let rendered = report
                .installed
                .as_ref()
                .filter(|i| i.cluster == *cluster)
                .map(|i| i.apps.clone())
                .unwrap_or_default();
            let failed: BTreeMap<Token, String> = report
                .app_failures
                .into_iter()
                .filter(|(name, _)| wanted.contains_key(name))
                .collect();
            let settled = wanted
                .iter()
                .all(|(name, app)| rendered.get(name) == Some(app) || failed.contains_key(name))
                && rendered.keys().all(|name| wanted.contains_key(name));
            if settled {
                failures.extend(failed);
            } else {
                behind.push(server.to_string());
            }
        }
        if behind.is_empty() {
            Ok(AppsProgress::Done { failures })
        } else {
            Ok(AppsProgress::Pending(format!(
                "waiting for {} to render the apps of {cluster}",
                behind.join(", ")
            )))
        }
    }

    async fn remove(&self, node: &Token) -> Result<Progress, RuntimeError> {
        self.asked.borrow_mut().remove(node);
        match self.installed(node) {
            None | Some((None, _, _)) => Ok(Progress::Done),
            Some((Some(_), _, heard_ago)) if heard_ago >= self.silent_after => {
                // Unreachable: nothing here can stop its Kubernetes. Back, it hears it runs nothing and stops it.
                self.observer.forget_runtime(node);
                Ok(Progress::Done)
            }
            Some((Some(_), _, _)) => Ok(Progress::Pending(format!(
                "waiting for {node}'s agent to stop its Kubernetes"
            ))),
        }
    }
}
