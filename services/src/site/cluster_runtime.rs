//! The Kubernetes layer behind a port: the site provisions nodes and rolls releases through [`ClusterRuntime`].
//! Two implementations: [`SimulatedRuntime`] (the default in tests and the demo) records what it would install;
//! `AgentRuntime` (`--runtime k3s`) hands each node's part to the node's own agent, which renders and runs k3s on its
//! machine. What the runtime reports as installed is an observation the site planner reads; it is never history.

use actors::plan::Provisioned;
use events::app::{AppRef, AppRelease};
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::profile::ProfileLayers;
use events::Token;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// What a runtime failed to do, for the node's `failed` reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuntimeError(pub String);

/// What to install on a node.
#[derive(Clone, Debug)]
pub struct NodePlan<'a> {
    /// The cluster.
    pub cluster: &'a Token,
    /// The node.
    pub node: &'a Token,
    /// Its role.
    pub role: NodeRole,
    /// The profile version.
    pub profile: &'a ProfileRef,
    /// Its layers, when the site has them (a cluster formed offline from the site image may not yet).
    pub layers: Option<&'a ProfileLayers>,
}

/// How far a runtime got with what it was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Done.
    Done,
    /// Under way elsewhere (a node's agent); ask again later. Why it is not done yet.
    Pending(String),
}

/// How far a runtime got with a cluster's apps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppsProgress {
    /// Every app is installed but those named, with why not.
    Done {
        /// App name → why it is not installed.
        failures: BTreeMap<Token, String>,
    },
    /// Under way on the nodes; ask again later. Why it is not done yet.
    Pending(String),
}

/// Installs and checks Kubernetes on a site's nodes.
pub trait ClusterRuntime {
    /// Installs the node's Kubernetes role and the profile's releases; idempotent.
    fn provision(&self, plan: &NodePlan<'_>) -> impl Future<Output = Result<Progress, RuntimeError>>;
    /// What the runtime last provisioned on `node`, if anything.
    fn provisioned(&self, node: &Token) -> Option<Provisioned>;
    /// Removes the node from its cluster (uninstall); idempotent.
    fn remove(&self, node: &Token) -> impl Future<Output = Result<Progress, RuntimeError>>;
    /// Installs exactly `apps` on `cluster` (whose members are `members`), removing any other app it installed
    /// there; idempotent.
    fn install_apps(
        &self,
        cluster: &Token,
        members: &[(Token, NodeRole)],
        apps: &[(AppRef, AppRelease)],
    ) -> impl Future<Output = Result<AppsProgress, RuntimeError>>;
}

/// One node as the simulated runtime installed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Installed {
    cluster: String,
    role: NodeRole,
    profile: String,
    kubernetes: String,
    releases: Vec<String>,
}

/// A runtime that records installs in a JSON file instead of touching hosts (`runtime.json`; apps per cluster in
/// `runtime-apps.json`). Nodes listed in `EDGEFLEET_SIMULATE_FAILURE` (comma-separated ids) fail to provision, and
/// apps listed in `EDGEFLEET_SIMULATE_APP_FAILURE` (names) fail to install, for failure tests.
pub struct SimulatedRuntime {
    state_path: PathBuf,
    installed: RefCell<BTreeMap<String, Installed>>,
    failing: Vec<String>,
    install_delay: Duration,
    apps_path: PathBuf,
    apps: RefCell<BTreeMap<String, BTreeMap<String, String>>>,
    failing_apps: Vec<String>,
}

/// A comma-separated list from the environment.
fn env_list(name: &str) -> Vec<String> {
    std::env::var(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl SimulatedRuntime {
    /// A runtime keeping its state in `state_path`.
    pub fn open(state_path: PathBuf) -> Self {
        let installed = std::fs::read(&state_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let apps_path = state_path.with_file_name("runtime-apps.json");
        let apps = std::fs::read(&apps_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self {
            state_path,
            installed: RefCell::new(installed),
            failing: env_list("EDGEFLEET_SIMULATE_FAILURE"),
            install_delay: Duration::from_millis(100),
            apps_path,
            apps: RefCell::new(apps),
            failing_apps: env_list("EDGEFLEET_SIMULATE_APP_FAILURE"),
        }
    }

    fn persist(&self) -> Result<(), RuntimeError> {
        let bytes = serde_json::to_vec_pretty(&*self.installed.borrow()).map_err(|e| RuntimeError(e.to_string()))?;
        let tmp = self.state_path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &self.state_path))
            .map_err(|e| RuntimeError(format!("recording the install in {}: {e}", self.state_path.display())))
    }
}

impl ClusterRuntime for SimulatedRuntime {
    async fn provision(&self, plan: &NodePlan<'_>) -> Result<Progress, RuntimeError> {
        if self.failing.iter().any(|n| n == plan.node.as_str()) {
            return Err(RuntimeError(format!(
                "simulated failure installing {} on {}",
                plan.profile, plan.node
            )));
        }
        tokio::time::sleep(self.install_delay).await; // an install takes time; keep the controller honest about it
        let (kubernetes, releases) = match plan.layers {
            Some(layers) => (
                format!("{} {}", layers.k8s.distro, layers.k8s.version),
                std::iter::once(&layers.cni)
                    .chain(&layers.csi)
                    .chain(&layers.addons)
                    .chain(&layers.apps)
                    .map(|r| format!("{}@{}", r.name, r.version))
                    .collect(),
            ),
            None => ("from the site image".to_string(), vec![]),
        };
        let installed = Installed {
            cluster: plan.cluster.to_string(),
            role: plan.role,
            profile: plan.profile.to_string(),
            kubernetes,
            releases,
        };
        self.installed.borrow_mut().insert(plan.node.to_string(), installed);
        self.persist().map(|()| Progress::Done)
    }

    fn provisioned(&self, node: &Token) -> Option<Provisioned> {
        let installed = self.installed.borrow();
        let entry = installed.get(node.as_str())?;
        Some(Provisioned {
            cluster: Token::new(entry.cluster.clone()).ok()?,
            role: entry.role,
            profile: entry.profile.parse().ok()?,
        })
    }

    async fn remove(&self, node: &Token) -> Result<Progress, RuntimeError> {
        let removed = self.installed.borrow_mut().remove(node.as_str()).is_some();
        if removed {
            self.persist()?;
        }
        Ok(Progress::Done)
    }

    async fn install_apps(
        &self,
        cluster: &Token,
        _members: &[(Token, NodeRole)],
        apps: &[(AppRef, AppRelease)],
    ) -> Result<AppsProgress, RuntimeError> {
        tokio::time::sleep(self.install_delay).await;
        let mut failures = BTreeMap::new();
        let mut installed = BTreeMap::new();
        for (app, _) in apps {
            if self.failing_apps.iter().any(|a| a == app.name.as_str()) {
                failures.insert(app.name.clone(), format!("simulated failure installing app {app}"));
            } else {
                installed.insert(app.name.to_string(), app.to_string());
            }
        }
        let changed = self.apps.borrow().get(cluster.as_str()) != Some(&installed);
        if changed {
            self.apps.borrow_mut().insert(cluster.to_string(), installed);
            let bytes = serde_json::to_vec_pretty(&*self.apps.borrow()).map_err(|e| RuntimeError(e.to_string()))?;
            let tmp = self.apps_path.with_extension("json.tmp");
            std::fs::write(&tmp, bytes)
                .and_then(|()| std::fs::rename(&tmp, &self.apps_path))
                .map_err(|e| RuntimeError(format!("recording the apps in {}: {e}", self.apps_path.display())))?;
        }
        Ok(AppsProgress::Done { failures })
    }
}
