//! Carries out the site planner's commands: each aggregate command through the site's actors (decide + append),
//! each runtime effect through the [`ClusterRuntime`]. Returns where each append landed so the planner loop can
//! wait for the projection to show it. Remembers nothing but a short back-off for commands that just failed, so a
//! failure that persists is retried at a sane pace rather than in a hot loop.

use super::cluster_runtime::{AppsProgress, ClusterRuntime, NodePlan, Progress};
use crate::fault_point::fault_point;
use crate::registries::{dispatch, Registries};
use actors::cluster::ClusterCommand;
use actors::node::NodeCommand;
use actors::plan::SiteCommand;
use actors::{ExecuteError, Executed};
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::{AggregateKind, AggregateRef, Scope, Token};
use replay::Projection;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a failed command is not tried again.
const BACK_OFF: Duration = Duration::from_secs(3);

/// Who the site's own decisions are recorded as.
const CONTROLLER: &str = "controller";

/// Executes site commands.
pub struct SiteExecutor<R: ClusterRuntime> {
    site: Token,
    registries: Registries,
    runtime: Rc<R>,
    projection: Arc<Projection>,
    failed: RefCell<BTreeMap<String, Instant>>,
}

type Written = Vec<(String, u64)>;

fn written<A>(done: Executed<A>) -> Written {
    done.positions
}

impl<R: ClusterRuntime> SiteExecutor<R> {
    /// An executor for `site`.
    pub fn new(site: Token, registries: Registries, runtime: Rc<R>, projection: Arc<Projection>) -> Self {
        Self {
            site,
            registries,
            runtime,
            projection,
            failed: RefCell::new(BTreeMap::new()),
        }
    }

    /// Carries out `command`; a command that failed in the last few seconds is skipped.
    pub async fn execute(&self, command: SiteCommand) -> Written {
        let key = format!("{command:?}");
        if self.failed.borrow().get(&key).is_some_and(|at| at.elapsed() < BACK_OFF) {
            return vec![];
        }
        match self.run(command).await {
            Ok(positions) => {
                self.failed.borrow_mut().remove(&key);
                positions
            }
            Err(e) => {
                tracing::warn!(error = %e, "site plan step failed; retrying later");
                self.failed.borrow_mut().insert(key, Instant::now());
                vec![]
            }
        }
    }

    fn node(&self, id: &Token) -> AggregateRef {
        AggregateRef::node(&self.site, id)
    }

    async fn node_command(&self, id: &Token, command: NodeCommand) -> Result<Written, ExecuteError> {
        let started = matches!(command, NodeCommand::ReportOsUpdateStarted(_));
        let done = dispatch(&self.registries.nodes, self.node(id), command, CONTROLLER).await?;
        if started && !done.events.is_empty() {
            // Fault injection for the crash test: a site dying right after handing out an OS update must hand the
            // same image out again after its restart.
            fault_point("site-after-os-update-started");
        }
        Ok(written(done))
    }

    async fn run(&self, command: SiteCommand) -> Result<Written, String> {
        let text = |e: ExecuteError| e.to_string();
        match command {
            SiteCommand::Node { node, command } => self.node_command(&node, command).await.map_err(text),
            SiteCommand::Cluster { cluster, command } => self.cluster_command(&cluster, command).await,
            SiteCommand::Rollout { rollout, command } => {
                let companion = AggregateRef {
                    kind: AggregateKind::Rollout,
                    scope: Scope::Site(self.site.clone()),
                    id: rollout,
                };
                let done = dispatch(&self.registries.rollouts, companion, command, CONTROLLER).await;
                done.map(written).map_err(text)
            }
            SiteCommand::Provision {
                node,
                cluster,
                role,
                profile,
            } => match self.provision(&node, &cluster, role, &profile).await {
                Ok(Progress::Done) => Ok(vec![]),
                Ok(Progress::Pending(why)) => {
                    tracing::debug!(%node, %why, "provisioning under way");
                    Ok(vec![])
                }
                Err(reason) => self
                    .node_command(&node, NodeCommand::ReportFailed(reason))
                    .await
                    .map_err(text),
            },
            SiteCommand::UpgradeCluster {
                cluster,
                members,
                profile,
            } => {
                let mut pending = Vec::new();
                for (node, role) in &members {
                    let progress = self
                        .provision(node, &cluster, *role, &profile)
                        .await
                        .map_err(|e| format!("upgrading {node}'s releases to {profile}: {e}"))?;
                    if let Progress::Pending(why) = progress {
                        pending.push(why);
                    }
                }
                if !pending.is_empty() {
                    return Err(format!("upgrading {cluster} to {profile}: {}", pending.join("; ")));
                }
                let ready = ClusterCommand::ReportReady { profile };
                let aggregate = AggregateRef::cluster(&self.site, &cluster);
                let done = dispatch(&self.registries.clusters, aggregate, ready, CONTROLLER).await;
                done.map(written).map_err(text)
            }
            SiteCommand::InstallApps { cluster, members, apps } => self.install_apps(&cluster, &members, apps).await,
            SiteCommand::Uninstall { node } => match self.runtime.remove(&node).await {
                Ok(Progress::Done) => Ok(vec![]),
                Ok(Progress::Pending(why)) => Err(why),
                Err(e) => Err(e.0),
            },
        }
    }

    /// A cluster command; a refused join is the node's failure, recorded for the operator.
    async fn cluster_command(&self, cluster: &Token, command: ClusterCommand) -> Result<Written, String> {
        let joining = match &command {
            ClusterCommand::Join { node, .. } => Some(node.clone()),
            _ => None,
        };
        let aggregate = AggregateRef::cluster(&self.site, cluster);
        match (
            dispatch(&self.registries.clusters, aggregate, command, CONTROLLER).await,
            joining,
        ) {
            (Ok(done), _) => Ok(written(done)),
            (Err(ExecuteError::Rejected(why)), Some(node)) => {
                let failed = NodeCommand::ReportFailed(format!("cannot join cluster {cluster}: {why}"));
                self.node_command(&node, failed).await.map_err(|e| e.to_string())
            }
            (Err(e), _) => Err(e.to_string()),
        }
    }

    /// Installs exactly `apps` on `cluster` and reports what got installed. An app whose release has not reached
    /// this site yet waits; an app that failed is reported with its reason and tried again after the back-off.
    async fn install_apps(
        &self,
        cluster: &Token,
        members: &[(Token, NodeRole)],
        apps: std::collections::BTreeMap<Token, events::app::AppRef>,
    ) -> Result<Written, String> {
        let releases: Vec<_> = self.projection.read(|fleet| {
            apps.values()
                .map(|app| (app.clone(), fleet.app_release(app).cloned()))
                .collect()
        });
        let missing: Vec<String> = releases
            .iter()
            .filter(|(_, release)| release.is_none())
            .map(|(app, _)| app.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(format!("apps {} have not reached this site yet", missing.join(", ")));
        }
        let releases: Vec<_> = releases.into_iter().filter_map(|(app, r)| Some((app, r?))).collect();
        let failures = match self.runtime.install_apps(cluster, members, &releases).await {
            Ok(AppsProgress::Done { failures }) => failures,
            Ok(AppsProgress::Pending(why)) => return Err(why),
            Err(e) => releases
                .iter()
                .map(|(app, _)| (app.name.clone(), e.0.clone()))
                .collect(),
        };
        let installed = apps
            .into_iter()
            .filter(|(name, _)| !failures.contains_key(name))
            .collect();
        let report = ClusterCommand::ReportApps {
            installed,
            failures: failures.clone(),
        };
        let aggregate = AggregateRef::cluster(&self.site, cluster);
        let done = dispatch(&self.registries.clusters, aggregate, report, CONTROLLER)
            .await
            .map_err(|e| e.to_string())?;
        if failures.is_empty() {
            Ok(written(done))
        } else {
            let reasons: Vec<String> = failures.iter().map(|(app, why)| format!("{app}: {why}")).collect();
            Err(format!("apps not installed on {cluster}: {}", reasons.join("; ")))
        }
    }

    /// Installs `profile` for `node` through the runtime; the error is the node's failure reason.
    async fn provision(
        &self,
        node: &Token,
        cluster: &Token,
        role: NodeRole,
        profile: &ProfileRef,
    ) -> Result<Progress, String> {
        let layers = self.projection.read(|fleet| fleet.profile_layers(profile).cloned());
        let plan = NodePlan {
            cluster,
            node,
            role,
            profile,
            layers: layers.as_ref(),
        };
        self.runtime.provision(&plan).await.map_err(|e| e.to_string())
    }
}
