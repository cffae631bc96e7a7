//! The site's telemetry gates: which updated clusters' gates are due for a verdict ([`gates_due`], so the process
//! knows whose samples to read), and the reports the verdicts it observed call for ([`plan_gates`]).
//!
//! Nothing here is remembered between passes: a gate is due while the cluster is `Verifying` in the log, and the
//! samples live in the site's telemetry stream, so a restarted site evaluates the same window again.

use super::site::SiteInputs;
use super::site_command::SiteCommand;
use crate::fleet_state::FleetState;
use crate::gate_evaluation::GateVerdict;
use crate::metric_gate::MetricGate;
use crate::rollout::{GateReport, RolloutCommand};
use events::rollout::ClusterTarget;
use events::Token;

/// One gate the site should evaluate now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueGate {
    /// The rollout.
    pub rollout: Token,
    /// The updated cluster.
    pub cluster: ClusterTarget,
    /// The gate.
    pub gate: MetricGate,
    /// When the cluster was reported updated, ms since the epoch: the window opens here.
    pub since_unix_ms: u64,
    /// The cluster's members, whose samples count.
    pub members: Vec<Token>,
}

/// Every gate due at `site`: updated clusters without a verdict, of rollouts with a gate that are not aborted.
pub fn gates_due(fleet: &FleetState, site: &Token) -> Vec<DueGate> {
    let mut due = Vec::new();
    for (rollout, state) in fleet.rollouts() {
        let Some(gate) = &state.spec.gate else { continue };
        for (cluster, since_unix_ms) in state.gates_due_at(site) {
            let members = fleet
                .cluster(site, &cluster.cluster)
                .map(|c| c.status.members.keys().cloned().collect())
                .unwrap_or_default();
            due.push(DueGate {
                rollout: rollout.clone(),
                cluster,
                gate: gate.clone(),
                since_unix_ms,
                members,
            });
        }
    }
    due
}

/// A report for every due gate the site observed a final verdict on (passed or breached); a gate still waiting
/// for samples gets none.
pub fn plan_gates(inputs: &SiteInputs<'_>) -> Vec<SiteCommand> {
    gates_due(inputs.fleet, inputs.site)
        .into_iter()
        .filter_map(|due| {
            let verdict = match inputs.observed.gates.get(&(due.rollout.clone(), due.cluster.clone()))? {
                GateVerdict::Passed => GateReport::Passed,
                GateVerdict::Breached(breach) => GateReport::Breached {
                    node: breach.node.clone(),
                    series: breach.series.clone(),
                    value: breach.value.clone(),
                    sampled_unix_ms: breach.at_ms,
                },
                GateVerdict::Waiting(_) => return None,
            };
            Some(SiteCommand::Rollout {
                rollout: due.rollout,
                command: RolloutCommand::ReportGate {
                    cluster: due.cluster,
                    verdict,
                },
            })
        })
        .collect()
}
