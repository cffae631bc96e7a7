//! The site's cluster OS updates: when a cluster's desired profile moves to a new OS version, start its members
//! one at a time (control plane first, `cluster_update::next_update_step`), inside the maintenance windows of the
//! rollouts that drive it; stop and move updated nodes back on the first failure; once every member runs the
//! target, upgrade the releases and report the cluster ready; and keep each rollout's companion told.
//!
//! Which image a node is updating to is not remembered anywhere but the log: `NodeOsUpdateStarted` says the
//! version, and [`os_target`] finds its image in the profiles the site holds, so a restarted site hands the same
//! image out again.

use super::site::SiteInputs;
use super::site_command::SiteCommand;
use crate::cluster::{ClusterCommand, ClusterHealth, ClusterState};
use crate::cluster_update::{next_update_step, MemberOs, UpdateStep};
use crate::fleet_state::FleetState;
use crate::node::NodeCommand;
use crate::rollout::{ClusterRolloutStatus, RolloutCommand, RolloutState};
use events::cluster::ProfileRef;
use events::profile::OsImage;
use events::rollout::ClusterTarget;
use events::Token;

/// Nodes of one cluster updating at once (bare metal has no spare node).
pub const MAX_UNAVAILABLE: usize = 1;

/// The OS image `node` at `site` should be installing now: the version its last `NodeOsUpdateStarted` names, found
/// in its cluster's desired profile, the profile it runs (a rollback), or any profile the site holds.
pub fn os_target(fleet: &FleetState, site: &Token, node: &Token) -> Option<OsImage> {
    let state = fleet.node(site, node)?;
    let version = state.status.os_updating_to.as_ref()?;
    let matches = |p: &ProfileRef| fleet.profile_layers(p).filter(|l| &l.os.version == version);
    let cluster = state
        .status
        .membership
        .as_ref()
        .and_then(|m| fleet.cluster(site, &m.cluster));
    let from_cluster = cluster.and_then(|c| {
        c.spec
            .profile
            .as_ref()
            .and_then(matches)
            .or_else(|| c.status.running_profile.as_ref().and_then(matches))
    });
    let layers = from_cluster.or_else(|| {
        fleet
            .profiles()
            .flat_map(|(_, p)| p.versions.values())
            .find(|l| &l.os.version == version)
    })?;
    Some(layers.os.clone())
}

/// OS update commands for every cluster of the site.
pub fn plan_os_updates(inputs: &SiteInputs<'_>) -> Vec<SiteCommand> {
    let mut out = Vec::new();
    let rollouts = inputs.fleet.rollouts();
    for (id, cluster) in inputs.fleet.clusters_at(inputs.site) {
        plan_cluster(id, cluster, &rollouts, inputs, &mut out);
    }
    out
}

fn target_of(site: &Token, cluster: &Token) -> ClusterTarget {
    ClusterTarget {
        site: site.clone(),
        cluster: cluster.clone(),
    }
}

/// Rollouts that move this cluster to `profile`, as this site knows them.
fn driving<'r>(
    rollouts: &'r [(Token, RolloutState)],
    target: &'r ClusterTarget,
    profile: &'r ProfileRef,
) -> impl Iterator<Item = &'r (Token, RolloutState)> + 'r {
    rollouts
        .iter()
        .filter(move |(_, r)| r.spec.profile.as_ref() == Some(profile) && r.wave_of(target).is_some())
}

/// Tells every rollout driving the cluster to `profile` whose view of it passes `due`.
fn report(
    rollouts: &[(Token, RolloutState)],
    target: &ClusterTarget,
    profile: &ProfileRef,
    due: impl Fn(&RolloutState) -> bool,
    command: impl Fn() -> RolloutCommand,
    out: &mut Vec<SiteCommand>,
) {
    for (id, rollout) in driving(rollouts, target, profile) {
        if due(rollout) {
            out.push(SiteCommand::Rollout {
                rollout: id.clone(),
                command: command(),
            });
        }
    }
}

/// A released, running rollout that has not heard of the cluster yet (the only state a start may follow).
fn may_start(rollout: &RolloutState, target: &ClusterTarget) -> bool {
    rollout.clusters_to_update_at(&target.site).contains(target)
}

fn updating(rollout: &RolloutState, target: &ClusterTarget) -> bool {
    rollout.cluster_status(target) == ClusterRolloutStatus::Updating
}

/// The cluster runs `want` and is ready: rollouts that moved it hear it is updated (one that had not started it
/// hears the start first), and aborted rollouts that had moved it elsewhere hear it is back.
fn report_settled(
    target: &ClusterTarget,
    want: &ProfileRef,
    rollouts: &[(Token, RolloutState)],
    out: &mut Vec<SiteCommand>,
) {
    report(
        rollouts,
        target,
        want,
        |r| may_start(r, target),
        || RolloutCommand::ReportStarted {
            cluster: target.clone(),
        },
        out,
    );
    report(
        rollouts,
        target,
        want,
        |r| updating(r, target),
        || RolloutCommand::ReportUpdated {
            cluster: target.clone(),
            profile: want.clone(),
        },
        out,
    );
    for (rollout, state) in rollouts {
        let undone = state.spec.aborted
            && state.spec.profile.as_ref() != Some(want)
            && state.clusters_to_roll_back_at(&target.site).contains(target);
        if undone {
            out.push(SiteCommand::Rollout {
                rollout: rollout.clone(),
                command: RolloutCommand::ReportRolledBack {
                    cluster: target.clone(),
                },
            });
        }
    }
}

fn plan_cluster(
    id: &Token,
    cluster: &ClusterState,
    rollouts: &[(Token, RolloutState)],
    inputs: &SiteInputs<'_>,
    out: &mut Vec<SiteCommand>,
) {
    let (site, fleet) = (inputs.site, inputs.fleet);
    let (Some(want), Some(running)) = (&cluster.spec.profile, &cluster.status.running_profile) else {
        return;
    };
    if !cluster.formed() || cluster.spec.deleted {
        return;
    }
    let target = target_of(site, id);
    let members: Vec<MemberOs> = cluster
        .status
        .members
        .iter()
        .filter_map(|(node, role)| {
            let state = fleet.node(site, node)?;
            Some(MemberOs {
                node: node.clone(),
                role: *role,
                version: state.status.os_version.clone(),
                updating_to: state.status.os_updating_to.clone(),
                last_failure: state.status.os_last_failure.clone(),
            })
        })
        .collect();
    let in_flight = members.iter().any(|m| m.updating_to.is_some());
    // After an abort a cluster may be back on its old profile while some members still run the new OS.
    let roll_back_due = rollouts
        .iter()
        .any(|(_, r)| r.spec.aborted && r.clusters_to_roll_back_at(site).contains(&target));
    if want == running && !in_flight && !roll_back_due {
        if cluster.status.health == ClusterHealth::Ready {
            report_settled(&target, want, rollouts, out);
        }
        return;
    }
    let (Some(wanted), previous) = (fleet.profile_layers(want), fleet.profile_layers(running)) else {
        return; // the profile has not reached this site yet
    };
    let members: Vec<MemberOs> = if want == running {
        // Only members known to run another version move; a node never updated keeps its bootstrap image.
        members
            .into_iter()
            .filter(|m| m.updating_to.is_some() || m.version.is_some())
            .collect()
    } else {
        members
    };
    let previous_os = previous.map(|l| l.os.version.clone());
    let step = next_update_step(&members, &wanted.os.version, previous_os.as_deref(), MAX_UNAVAILABLE);
    match step {
        UpdateStep::Wait => {}
        UpdateStep::Update(nodes) => {
            if !window_open(&target, want, rollouts, inputs) {
                return;
            }
            report(
                rollouts,
                &target,
                want,
                |r| may_start(r, &target),
                || RolloutCommand::ReportStarted {
                    cluster: target.clone(),
                },
                out,
            );
            for node in nodes {
                out.push(SiteCommand::Node {
                    node,
                    command: NodeCommand::ReportOsUpdateStarted(wanted.os.version.clone()),
                });
            }
        }
        UpdateStep::RollBack { nodes, .. } => {
            if let Some(previous) = &previous_os {
                for node in nodes {
                    out.push(SiteCommand::Node {
                        node,
                        command: NodeCommand::ReportOsUpdateStarted(previous.clone()),
                    });
                }
            }
        }
        UpdateStep::Failed { reason } => {
            let why = format!("update to {want} rolled back: {reason}");
            if cluster.status.health != ClusterHealth::Degraded(why.clone()) {
                out.push(SiteCommand::Cluster {
                    cluster: id.clone(),
                    command: ClusterCommand::ReportDegraded(why.clone()),
                });
            }
            report(
                rollouts,
                &target,
                want,
                |r| updating(r, &target),
                || RolloutCommand::ReportFailed {
                    cluster: target.clone(),
                    reason: why.clone(),
                    rolled_back: true,
                },
                out,
            );
        }
        UpdateStep::Done => {
            // First the releases and the ready report; once the log shows the cluster ready on the target, the
            // rollouts are told (a crash in between plans the same again).
            if cluster.status.health == ClusterHealth::Ready && want == running {
                report_settled(&target, want, rollouts, out);
            } else {
                out.push(SiteCommand::UpgradeCluster {
                    cluster: id.clone(),
                    members: cluster.status.members.iter().map(|(n, r)| (n.clone(), *r)).collect(),
                    profile: want.clone(),
                });
            }
        }
    }
}

/// True if the rollouts driving this cluster to `want` allow a node to start now (their window and the site's, in
/// the site's time zone). Updates no rollout drives (an operator's upgrade, a rollback) ignore windows.
fn window_open(
    target: &ClusterTarget,
    want: &ProfileRef,
    rollouts: &[(Token, RolloutState)],
    inputs: &SiteInputs<'_>,
) -> bool {
    let site_window = inputs
        .fleet
        .site(inputs.site)
        .and_then(|s| s.spec.maintenance_window.as_ref());
    let now_s = i64::try_from(inputs.now_unix_ms / 1000).unwrap_or(i64::MAX);
    let (weekday, minute) = inputs.zone.local(now_s);
    driving(rollouts, target, want)
        .filter(|(_, r)| !r.spec.aborted)
        .all(|(_, r)| r.window_open(site_window, weekday, minute))
}
