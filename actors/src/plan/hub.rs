//! The hub's plan: every rollout's next step and the intents it implies, and the tidying a deletion implies — a
//! pure function of the hub's projection, which sites are online and the time.
//!
//! - A rollout releases its next wave behind the health gate, pauses when the failure budget is spent or a cluster
//!   breached its telemetry gate, and skips
//!   clusters of sites offline past the deadline (`RolloutState::next_hub_step`).
//! - Every cluster of a released wave that has not started yet is asked to run the rollout's profile. This is
//!   derived, not remembered: a hub that crashed between releasing a wave and writing the clusters' new profile
//!   writes them on its next plan.
//! - After an abort, every planned cluster still asked to run the rollout's profile goes back to the profile it
//!   was asked to run before.
//! - Nodes still assigned to a deleted cluster are unassigned.
//! - Every placement is decided again over the fleet, and clusters run what the decisions give them
//!   ([`super::hub_placements`]).
//! - Every site's config is the operator's entries that target it, resolved ([`super::hub_config`]).

use crate::cluster::ClusterCommand;
use crate::fleet_state::FleetState;
use crate::node::NodeCommand;
use crate::rollout::{ClusterRolloutStatus, HubStep, RolloutCommand, RolloutState};
use events::Token;
use std::collections::BTreeSet;

/// Why a cluster is skipped, for the operator.
pub const SKIP_REASON: &str = "site offline past the deadline";

/// Everything the hub planner looks at.
#[derive(Clone, Debug)]
pub struct HubInputs<'a> {
    /// The hub's projection: the intents and every site's copy.
    pub fleet: &'a FleetState,
    /// Sites whose beacon is recent.
    pub online: &'a BTreeSet<Token>,
    /// Sites whose beacon is not recent, and for how long (ms since the last one, or since the hub started when it
    /// heard none): what placements tolerate.
    pub offline_for_ms: &'a std::collections::BTreeMap<Token, u64>,
    /// Hub wall time, Unix seconds.
    pub now_unix_s: u64,
}

/// One intent for the hub's actors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubCommand {
    /// On the rollout's plan (`rollout/all/<id>`).
    Rollout {
        /// The rollout.
        rollout: Token,
        /// The command.
        command: RolloutCommand,
    },
    /// On a cluster.
    Cluster {
        /// Its site.
        site: Token,
        /// The cluster.
        cluster: Token,
        /// The command.
        command: ClusterCommand,
    },
    /// On a config aggregate (a site's resolved set).
    Config {
        /// The aggregate.
        aggregate: events::AggregateRef,
        /// The command.
        command: crate::config::ConfigCommand,
    },
    /// On a placement (`placement/all/<name>`).
    Placement {
        /// The placement.
        placement: Token,
        /// The command.
        command: crate::placement::PlacementCommand,
    },
    /// On a node.
    Node {
        /// Its site.
        site: Token,
        /// The node.
        node: Token,
        /// The command.
        command: NodeCommand,
    },
}

/// Every intent the hub should write now. Deterministic; empty when the fleet is settled.
pub fn plan_hub(inputs: &HubInputs<'_>) -> Vec<HubCommand> {
    let mut out = Vec::new();
    for (id, rollout) in inputs.fleet.rollouts() {
        plan_rollout(&id, &rollout, inputs, &mut out);
    }
    unassign_from_deleted(inputs.fleet, &mut out);
    super::hub_placements::plan_placements(inputs.fleet, inputs.offline_for_ms, &mut out);
    super::hub_config::plan_config(inputs.fleet, inputs.now_unix_s.saturating_mul(1000), &mut out);
    out
}

fn plan_rollout(id: &Token, rollout: &RolloutState, inputs: &HubInputs<'_>, out: &mut Vec<HubCommand>) {
    let Some(profile) = &rollout.spec.profile else { return };
    let fleet = inputs.fleet;
    let on_rollout = |command| HubCommand::Rollout {
        rollout: id.clone(),
        command,
    };
    if rollout.spec.aborted {
        for target in rollout.spec.plan.iter().flatten() {
            let Some(cluster) = fleet.cluster(&target.site, &target.cluster) else {
                continue;
            };
            let back = cluster.spec.previous_profile.as_ref().filter(|p| *p != profile);
            if let (Some(back), false) = (back, cluster.spec.deleted) {
                if cluster.spec.profile.as_ref() == Some(profile) {
                    out.push(HubCommand::Cluster {
                        site: target.site.clone(),
                        cluster: target.cluster.clone(),
                        command: ClusterCommand::ChangeProfile(back.clone()),
                    });
                }
            }
        }
        return;
    }
    // Released waves: every cluster that has not started yet runs the rollout's profile.
    for wave in rollout.spec.released_unix_s.keys() {
        for target in rollout.wave(*wave) {
            if rollout.cluster_status(target) != ClusterRolloutStatus::Pending {
                continue;
            }
            let Some(cluster) = fleet.cluster(&target.site, &target.cluster) else {
                continue;
            };
            if cluster.spec.deleted || cluster.spec.profile.is_none() || cluster.spec.profile.as_ref() == Some(profile)
            {
                continue;
            }
            out.push(HubCommand::Cluster {
                site: target.site.clone(),
                cluster: target.cluster.clone(),
                command: ClusterCommand::ChangeProfile(profile.clone()),
            });
        }
    }
    match rollout.next_hub_step(inputs.now_unix_s, |site| inputs.online.contains(site)) {
        HubStep::Idle | HubStep::Complete => {}
        HubStep::ReleaseWave(wave) => out.push(on_rollout(RolloutCommand::ReleaseWave(wave))),
        HubStep::PauseForBudget => out.push(on_rollout(RolloutCommand::PauseForBudget)),
        HubStep::PauseForGate(clusters) => out.push(on_rollout(RolloutCommand::PauseForGate(clusters))),
        HubStep::Skip(targets) => out.extend(targets.into_iter().map(|cluster| {
            on_rollout(RolloutCommand::Skip {
                cluster,
                reason: SKIP_REASON.into(),
            })
        })),
    }
}

fn unassign_from_deleted(fleet: &FleetState, out: &mut Vec<HubCommand>) {
    for (site, node, state) in fleet.nodes() {
        let Some(assigned) = &state.spec.assignment else {
            continue;
        };
        if fleet.cluster(site, &assigned.cluster).is_some_and(|c| c.spec.deleted) {
            out.push(HubCommand::Node {
                site: site.clone(),
                node: node.clone(),
                command: NodeCommand::Unassign,
            });
        }
    }
}
