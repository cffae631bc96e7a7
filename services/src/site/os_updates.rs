//! Cluster OS updates at the site: when a cluster's desired profile moves to a new OS version, hand the new image
//! to one node at a time (control plane first), record what the agents report, stop and roll back on the first
//! failure, and mark the cluster ready on the new profile once every member runs it. Runs offline once the intent
//! has arrived; the sequencing itself is `actors::cluster_update::next_update_step`.

use super::cluster_runtime::{ClusterRuntime, NodePlan};
use super::controller::SiteController;
use crate::agent_protocol::{AgentOs, OsTarget};
use crate::registries::{dispatch, query};
use actors::cluster::{ClusterCommand, ClusterHealth, ClusterState};
use actors::cluster_update::{next_update_step, MemberOs, UpdateStep};
use actors::node::{NodeCommand, NodeState};
use actors::profile::ProfileState;
use actors::rollout::{ClusterRolloutStatus, RolloutCommand, RolloutState};
use events::cluster::ProfileRef;
use events::profile::OsImage;
use events::rollout::ClusterTarget;
use events::{AggregateKind, AggregateRef, Scope, Token};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

/// Nodes updating at once in one cluster (bare metal has no spare node).
const MAX_UNAVAILABLE: usize = 1;

/// The object name of an OS image in the `ef-images` bucket.
pub fn image_object(os: &OsImage) -> String {
    format!("{}-{}", os.image, os.version)
}

fn target_of(os: &OsImage) -> OsTarget {
    OsTarget {
        version: os.version.clone(),
        object: image_object(os),
        sha256: os.sha256.clone(),
    }
}

impl<R: ClusterRuntime> SiteController<R> {
    /// Turns what the agent reports about its OS into events (idempotent: repeats decide nothing).
    pub async fn record_os(&self, node_id: &Token, state: &NodeState, os: AgentOs) {
        let node = AggregateRef::node(&self.site, node_id);
        if let (Some((attempted, reason)), Some(updating)) = (&os.rolled_back, &state.status.os_updating_to) {
            if attempted == updating {
                let report = NodeCommand::ReportOsRolledBack {
                    attempted: attempted.clone(),
                    reason: reason.clone(),
                    slot: os.slot.clone(),
                };
                if let Err(e) = dispatch(&self.registries.nodes, node.clone(), report, "agent").await {
                    tracing::warn!(node = %node_id, error = %e, "rollback not recorded");
                }
                self.os_targets.borrow_mut().remove(node_id);
                return;
            }
        }
        if let Some(version) = os.version {
            let reached = state.status.os_updating_to.as_ref() == Some(&version)
                || state.status.os_version.as_ref() != Some(&version);
            if reached {
                let report = NodeCommand::ReportOsUpdated {
                    version: version.clone(),
                    slot: os.slot,
                };
                if let Err(e) = dispatch(&self.registries.nodes, node, report, "agent").await {
                    tracing::warn!(node = %node_id, error = %e, "OS update not recorded");
                }
            }
            let done = self
                .os_targets
                .borrow()
                .get(node_id)
                .is_some_and(|t| t.version == version);
            if done {
                self.os_targets.borrow_mut().remove(node_id);
            }
        }
    }

    async fn layers(&self, profile: &ProfileRef) -> Option<events::profile::ProfileLayers> {
        let state: ProfileState = query(&self.registries.profiles, AggregateRef::profile(&profile.name))
            .await
            .ok()?;
        state.versions.get(&profile.version).cloned()
    }

    /// One pass over one cluster's OS update.
    pub async fn step_cluster_update(&self, cluster_id: &Token) -> anyhow::Result<()> {
        let cluster_ref = AggregateRef::cluster(&self.site, cluster_id);
        let cluster: ClusterState = query(&self.registries.clusters, cluster_ref.clone()).await?;
        let (Some(want), Some(running)) = (cluster.spec.profile.clone(), cluster.status.running_profile.clone()) else {
            return Ok(());
        };
        if want == running || !cluster.formed() || cluster.spec.deleted {
            return Ok(());
        }
        let (Some(target), previous) = (self.layers(&want).await, self.layers(&running).await) else {
            return Ok(()); // the profile has not reached this site yet
        };
        let mut members = Vec::new();
        for (node, role) in &cluster.status.members {
            let state: NodeState = query(&self.registries.nodes, AggregateRef::node(&self.site, node)).await?;
            members.push(MemberOs {
                node: node.clone(),
                role: *role,
                version: state.status.os_version.clone(),
                updating_to: state.status.os_updating_to.clone(),
                last_failure: state.status.os_last_failure.clone(),
            });
        }
        let previous_os = previous.as_ref().map(|l| l.os.clone());
        let step = next_update_step(
            &members,
            &target.os.version,
            previous_os.as_ref().map(|o| o.version.as_str()),
            MAX_UNAVAILABLE,
        );
        match step {
            UpdateStep::Wait => {}
            UpdateStep::Update(nodes) => {
                if !self.window_open(cluster_id, &want).await {
                    tracing::debug!(cluster = %cluster_id, "outside the maintenance window; waiting");
                    return Ok(());
                }
                self.report_rollouts(
                    cluster_id,
                    &want,
                    |cluster| RolloutCommand::ReportStarted { cluster },
                    |s| !matches!(s, ClusterRolloutStatus::Pending),
                )
                .await;
                self.hand_out(&nodes, &target.os).await?
            }
            UpdateStep::RollBack { nodes, reason } => {
                tracing::warn!(cluster = %cluster_id, %reason, "OS update failed; rolling updated nodes back");
                if let Some(previous) = &previous_os {
                    self.hand_out(&nodes, previous).await?;
                }
            }
            UpdateStep::Failed { reason } => {
                let why = format!("update to {want} rolled back: {reason}");
                if cluster.status.health != ClusterHealth::Degraded(why.clone()) {
                    dispatch(
                        &self.registries.clusters,
                        cluster_ref,
                        ClusterCommand::ReportDegraded(why.clone()),
                        "controller",
                    )
                    .await?;
                }
                let failed = |cluster| RolloutCommand::ReportFailed {
                    cluster,
                    reason: why.clone(),
                    rolled_back: true,
                };
                self.report_rollouts(cluster_id, &want, failed, |s| {
                    matches!(s, ClusterRolloutStatus::Failed { .. })
                })
                .await;
            }
            UpdateStep::Done => {
                for member in &members {
                    let plan = NodePlan {
                        cluster: cluster_id,
                        node: &member.node,
                        role: member.role,
                        profile: &want,
                        layers: Some(&target),
                    };
                    self.runtime
                        .provision(&plan)
                        .await
                        .map_err(|e| anyhow::anyhow!("upgrading releases: {e}"))?;
                }
                dispatch(
                    &self.registries.clusters,
                    cluster_ref,
                    ClusterCommand::ReportReady,
                    "controller",
                )
                .await?;
                let updated = |cluster| RolloutCommand::ReportUpdated {
                    cluster,
                    profile: want.clone(),
                };
                self.report_rollouts(cluster_id, &want, updated, |s| {
                    matches!(s, ClusterRolloutStatus::Updated)
                })
                .await;
                self.report_rolled_back(cluster_id, &want).await;
                tracing::info!(cluster = %cluster_id, profile = %want, "cluster updated");
            }
        }
        Ok(())
    }

    /// Every rollout whose plan reached this site, as this site's companion folds it (plan + own reports).
    async fn rollouts_here(&self) -> Vec<(AggregateRef, RolloutState)> {
        let ids: Vec<Token> = self.rollouts.borrow().iter().cloned().collect();
        let mut rollouts = Vec::with_capacity(ids.len());
        for id in ids {
            let companion = AggregateRef {
                kind: AggregateKind::Rollout,
                scope: Scope::Site(self.site.clone()),
                id,
            };
            match query::<RolloutState>(&self.registries.rollouts, companion.clone()).await {
                Ok(state) => rollouts.push((companion, state)),
                Err(e) => tracing::warn!(rollout = %companion, error = %e, "rollout unreadable"),
            }
        }
        rollouts
    }

    /// Reports progress on `cluster` to every rollout that moves it to `profile` (on this site's companion).
    async fn report_rollouts(
        &self,
        cluster: &Token,
        profile: &ProfileRef,
        report: impl Fn(ClusterTarget) -> RolloutCommand,
        already: impl Fn(&ClusterRolloutStatus) -> bool,
    ) {
        let target = ClusterTarget {
            site: self.site.clone(),
            cluster: cluster.clone(),
        };
        for (companion, state) in self.rollouts_here().await {
            let moves_it = state.spec.profile.as_ref() == Some(profile) && state.wave_of(&target).is_some();
            tracing::debug!(rollout = %companion, moves_it, status = ?state.cluster_status(&target), "rollout report");
            if !moves_it || already(&state.cluster_status(&target)) {
                continue;
            }
            if let Err(e) = dispatch(
                &self.registries.rollouts,
                companion,
                report(target.clone()),
                "controller",
            )
            .await
            {
                tracing::warn!(%cluster, error = %e, "rollout progress not recorded");
            }
        }
    }

    /// True if a rollout moving `cluster` to `profile` may start a node now: inside the rollout's window and the
    /// site's own (`SiteState.spec.maintenance_window`). Evaluated on the site's clock in UTC (IANA time-zone
    /// conversion is not wired in yet). Rollbacks and updates not driven by a rollout ignore windows.
    async fn window_open(&self, cluster: &Token, profile: &ProfileRef) -> bool {
        let now_s = actors::process_clock::system_wall_ms() / 1000;
        let days_since_epoch = now_s / 86_400;
        // 1970-01-01 was a Thursday.
        let weekday = actors::rollout::Weekday::ALL[((days_since_epoch + 3) % 7) as usize];
        let minute = ((now_s % 86_400) / 60) as u16;
        let site_state: Option<actors::site::SiteState> =
            query(&self.registries.sites, AggregateRef::site(&self.site)).await.ok();
        let site_window = site_state
            .and_then(|s| s.spec.maintenance_window)
            .and_then(|w| actors::rollout::parse_window(&w).ok());
        let target = ClusterTarget {
            site: self.site.clone(),
            cluster: cluster.clone(),
        };
        for (_, state) in self.rollouts_here().await {
            let drives_it = state.spec.profile.as_ref() == Some(profile) && state.wave_of(&target).is_some();
            if drives_it && !state.spec.aborted && !state.window_open(site_window.as_ref(), weekday, minute) {
                return false;
            }
        }
        true
    }

    /// A cluster back on a profile other than an aborted rollout's: report it rolled back to that rollout.
    async fn report_rolled_back(&self, cluster: &Token, now_running: &ProfileRef) {
        let target = ClusterTarget {
            site: self.site.clone(),
            cluster: cluster.clone(),
        };
        for (companion, state) in self.rollouts_here().await {
            let undone = state.spec.aborted
                && state.spec.profile.as_ref() != Some(now_running)
                && state.clusters_to_roll_back_at(&self.site).contains(&target);
            if undone {
                let rolled_back = RolloutCommand::ReportRolledBack {
                    cluster: target.clone(),
                };
                if let Err(e) = dispatch(&self.registries.rollouts, companion, rolled_back, "controller").await {
                    tracing::warn!(%cluster, error = %e, "rollback not reported");
                }
            }
        }
    }

    async fn hand_out(&self, nodes: &[Token], os: &OsImage) -> anyhow::Result<()> {
        for node in nodes {
            self.os_targets.borrow_mut().insert(node.clone(), target_of(os));
            let started = NodeCommand::ReportOsUpdateStarted(os.version.clone());
            dispatch(
                &self.registries.nodes,
                AggregateRef::node(&self.site, node),
                started,
                "controller",
            )
            .await?;
        }
        Ok(())
    }

    /// Clusters with members at this site, as far as the controller knows.
    async fn clusters(&self) -> BTreeSet<Token> {
        let mut clusters = BTreeSet::new();
        for node in self.known_nodes() {
            if let Ok(state) = query::<NodeState>(&self.registries.nodes, AggregateRef::node(&self.site, &node)).await {
                clusters.extend(state.status.membership.map(|m| m.cluster));
            }
        }
        clusters
    }
}

/// Steps every cluster's OS update once a second until aborted.
pub async fn watch<R: ClusterRuntime>(controller: Rc<SiteController<R>>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        for cluster in controller.clusters().await {
            if let Err(e) = controller.step_cluster_update(&cluster).await {
                tracing::warn!(%cluster, error = %e, "cluster update step failed");
            }
        }
    }
}
