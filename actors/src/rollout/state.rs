//! The rollout's state: the hub's plan and commands (spec) and what sites reported per cluster (status), and the
//! fold that builds it. Queries that combine the two live here too; they never change anything.

use crate::maintenance_window::MaintenanceWindow;
use crate::metric_gate::MetricGate;
use events::cluster::ProfileRef;
use events::rollout::{ClusterTarget, PauseReason, RolloutEvent, WaveSpec};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the hub decided: the plan and the operator's commands. Changed only by hub events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutSpec {
    /// Generation of the last intent (0 = not created).
    pub generation: u64,
    /// Target profile version (`None` until created).
    pub profile: Option<ProfileRef>,
    /// The label selector the targets were chosen by.
    pub selector: BTreeMap<String, String>,
    /// Cumulative wave sizes as given.
    pub waves: Vec<WaveSpec>,
    /// Failures tolerated beyond `failures_accepted`; one more pauses the rollout.
    pub failure_budget: u32,
    /// Maintenance window the rollout's updates must start in, if any.
    pub window: Option<MaintenanceWindow>,
    /// Seconds after a wave's release before clusters of offline sites in it are skipped.
    pub skip_after_s: u64,
    /// Clusters per wave (wave 0 = the canary).
    pub plan: Vec<Vec<ClusterTarget>>,
    /// Hub wall time of the creation, Unix seconds.
    pub created_unix_s: u64,
    /// Released waves → hub wall time of their release, Unix seconds.
    pub released_unix_s: BTreeMap<u32, u64>,
    /// Why the rollout is paused, while it is.
    pub paused: Option<PauseReason>,
    /// Failures the operator accepted when resuming; the budget counts only failures beyond these.
    pub failures_accepted: u32,
    /// The operator aborted the rollout.
    pub aborted: bool,
    /// Clusters the hub gave up on, with why.
    pub skipped: BTreeMap<ClusterTarget, String>,
    /// The telemetry gate every updated cluster must pass before its wave counts as healthy, if any.
    pub gate: Option<MetricGate>,
    /// Clusters whose gate breach a pause answered (a resume accepts them; the hub never pauses for them again).
    pub gate_pauses: BTreeSet<ClusterTarget>,
}

/// What a cluster's site last reported about it. A cluster without a report has not been started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterReport {
    /// The update started.
    Updating {
        /// Spec generation acted on.
        observed_generation: u64,
    },
    /// Updated and healthy.
    Updated {
        /// Profile version running.
        profile: ProfileRef,
    },
    /// The update failed.
    Failed {
        /// What went wrong.
        reason: String,
        /// The site already reverted to the previous version.
        rolled_back: bool,
    },
    /// Rolled back after an abort.
    RolledBack,
}

impl ClusterReport {
    /// True if an abort must roll this cluster back: it is, or may be, on the new version.
    pub fn needs_roll_back(&self) -> bool {
        matches!(
            self,
            ClusterReport::Updating { .. }
                | ClusterReport::Updated { .. }
                | ClusterReport::Failed { rolled_back: false, .. }
        )
    }
}

/// A site's verdict on an updated cluster's telemetry gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GateReport {
    /// Every node held the condition through the window.
    Passed,
    /// A node's sample failed the condition.
    Breached {
        /// The node.
        node: events::Token,
        /// The series.
        series: String,
        /// The value, as text.
        value: String,
        /// Sample time, ms since the epoch.
        sampled_unix_ms: u64,
    },
}

/// What the sites reported. Changed only by site events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutStatus {
    /// Last report per cluster, from every site's companion aggregate.
    pub clusters: BTreeMap<ClusterTarget, ClusterReport>,
    /// When each cluster was reported updated (the report's hybrid-logical time, ms): its gate window opens here.
    pub updated_at_ms: BTreeMap<ClusterTarget, u64>,
    /// Each cluster's gate verdict, once its site recorded one.
    pub gates: BTreeMap<ClusterTarget, GateReport>,
}

/// One cluster's place in the rollout, combining the hub's skip decision and the site's reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterRolloutStatus {
    /// Not started (its wave may not be released yet).
    Pending,
    /// Being updated.
    Updating,
    /// Updated and healthy (and through the gate, if the rollout has one).
    Updated,
    /// Updated; the site is evaluating the rollout's gate over its nodes' telemetry.
    Verifying {
        /// When the update was reported, ms since the epoch (the gate's window opened).
        since_unix_ms: u64,
    },
    /// Updated, but a node failed the rollout's gate.
    GateBreached {
        /// The node.
        node: events::Token,
        /// The series.
        series: String,
        /// The value, as text.
        value: String,
    },
    /// The update failed; counts against the failure budget.
    Failed {
        /// What went wrong.
        reason: String,
        /// The site already reverted to the previous version.
        rolled_back: bool,
    },
    /// Rolled back after an abort.
    RolledBack,
    /// The hub gave up on it (its site stayed offline past the deadline).
    Skipped {
        /// Why.
        reason: String,
    },
}

impl ClusterRolloutStatus {
    /// True once nothing more is expected of the cluster: updated (and through the gate), breached, failed,
    /// rolled back or skipped.
    pub fn is_settled(&self) -> bool {
        !matches!(
            self,
            ClusterRolloutStatus::Pending | ClusterRolloutStatus::Updating | ClusterRolloutStatus::Verifying { .. }
        )
    }
}

/// The rollout aggregate, folded from the hub aggregate and every site's companion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutState {
    /// Desired state (hub).
    pub spec: RolloutSpec,
    /// Observed state (sites).
    pub status: RolloutStatus,
}

impl RolloutState {
    /// Folds one event recorded at `at_ms` (its hybrid-logical time). Hub events touch only `spec`, site events
    /// only their cluster's entries in `status`, so the result does not depend on how the origins interleave.
    pub(super) fn fold(&mut self, event: &RolloutEvent, at_ms: u64) {
        let spec = &mut self.spec;
        match event {
            RolloutEvent::Created {
                generation,
                profile,
                selector,
                waves,
                failure_budget,
                window,
                skip_after_s,
                plan,
                created_unix_s,
            } => {
                *spec = RolloutSpec {
                    generation: *generation,
                    profile: Some(profile.clone()),
                    selector: selector.clone(),
                    waves: waves.clone(),
                    failure_budget: *failure_budget,
                    window: window.as_deref().map(MaintenanceWindow::from_log),
                    skip_after_s: *skip_after_s,
                    plan: plan.clone(),
                    created_unix_s: *created_unix_s,
                    ..RolloutSpec::default()
                };
            }
            RolloutEvent::Paused { generation, reason } => {
                spec.generation = *generation;
                spec.paused = Some(*reason);
            }
            RolloutEvent::Resumed {
                generation,
                failures_accepted,
            } => {
                spec.generation = *generation;
                spec.paused = None;
                spec.failures_accepted = *failures_accepted;
            }
            RolloutEvent::Aborted { generation } => {
                spec.generation = *generation;
                spec.aborted = true;
            }
            RolloutEvent::WaveReleased {
                generation,
                wave,
                released_unix_s,
            } => {
                spec.generation = *generation;
                spec.released_unix_s.entry(*wave).or_insert(*released_unix_s);
            }
            RolloutEvent::ClusterSkipped {
                generation,
                cluster,
                reason,
            } => {
                spec.generation = *generation;
                spec.skipped.insert(cluster.clone(), reason.clone());
            }
            RolloutEvent::ClusterUpdateStarted {
                cluster,
                observed_generation,
            } => self.report(
                cluster,
                ClusterReport::Updating {
                    observed_generation: *observed_generation,
                },
            ),
            RolloutEvent::ClusterUpdated { cluster, profile } => {
                self.status.updated_at_ms.insert(cluster.clone(), at_ms);
                self.report(
                    cluster,
                    ClusterReport::Updated {
                        profile: profile.clone(),
                    },
                )
            }
            RolloutEvent::ClusterUpdateFailed {
                cluster,
                reason,
                rolled_back,
            } => self.report(
                cluster,
                ClusterReport::Failed {
                    reason: reason.clone(),
                    rolled_back: *rolled_back,
                },
            ),
            RolloutEvent::ClusterRolledBack { cluster } => self.report(cluster, ClusterReport::RolledBack),
            RolloutEvent::GateSet { generation, gate } => {
                spec.generation = *generation;
                spec.gate = Some(MetricGate::from_log(gate));
            }
            RolloutEvent::PausedForGate { generation, clusters } => {
                spec.generation = *generation;
                spec.paused = Some(PauseReason::GateBreached);
                spec.gate_pauses.extend(clusters.iter().cloned());
            }
            RolloutEvent::ClusterGatePassed { cluster } => {
                self.status.gates.insert(cluster.clone(), GateReport::Passed);
            }
            RolloutEvent::ClusterGateBreached {
                cluster,
                node,
                series,
                value,
                sampled_unix_ms,
            } => {
                let breach = GateReport::Breached {
                    node: node.clone(),
                    series: series.clone(),
                    value: value.clone(),
                    sampled_unix_ms: *sampled_unix_ms,
                };
                self.status.gates.insert(cluster.clone(), breach);
            }
        }
    }

    /// The whole rollout from its parts as separate folds keep them: the plan's spec (`rollout/all/<id>`) and each
    /// site companion's reports (`rollout/<site>/<id>`). Hub events touch only the spec and each site's events only
    /// its own clusters' entries, so this equals folding every event together.
    pub fn merged<'r>(plan: &RolloutState, reports: impl IntoIterator<Item = &'r RolloutState>) -> RolloutState {
        let mut whole = RolloutState {
            spec: plan.spec.clone(),
            status: plan.status.clone(),
        };
        for report in reports {
            let status = &report.status;
            whole
                .status
                .clusters
                .extend(status.clusters.iter().map(|(c, r)| (c.clone(), r.clone())));
            whole
                .status
                .updated_at_ms
                .extend(status.updated_at_ms.iter().map(|(c, at)| (c.clone(), *at)));
            whole
                .status
                .gates
                .extend(status.gates.iter().map(|(c, g)| (c.clone(), g.clone())));
        }
        whole
    }

    fn report(&mut self, cluster: &ClusterTarget, report: ClusterReport) {
        self.status.clusters.insert(cluster.clone(), report);
    }

    /// True once the hub created the rollout.
    pub fn created(&self) -> bool {
        self.spec.profile.is_some()
    }

    /// The highest released wave (0 = the canary), or `None` before the first release.
    pub fn current_wave(&self) -> Option<u32> {
        self.spec.released_unix_s.keys().next_back().copied()
    }

    /// True if `wave` was released.
    pub fn is_released(&self, wave: u32) -> bool {
        self.spec.released_unix_s.contains_key(&wave)
    }

    /// Number of waves in the plan.
    pub fn wave_count(&self) -> u32 {
        u32::try_from(self.spec.plan.len()).unwrap_or(u32::MAX)
    }

    /// The wave `cluster` is planned in, or `None` if the rollout does not target it.
    pub fn wave_of(&self, cluster: &ClusterTarget) -> Option<u32> {
        let index = self.spec.plan.iter().position(|wave| wave.contains(cluster))?;
        u32::try_from(index).ok()
    }

    /// The clusters of `wave` (empty for a wave the plan does not have).
    pub fn wave(&self, wave: u32) -> &[ClusterTarget] {
        usize::try_from(wave)
            .ok()
            .and_then(|w| self.spec.plan.get(w))
            .map_or(&[], Vec::as_slice)
    }

    /// Where `cluster` stands. A site's fact (updated, failed, rolled back) outranks the hub's skip, which in turn
    /// outranks an update still in flight: the hub gave up waiting, but a site that finishes anyway says so.
    pub fn cluster_status(&self, cluster: &ClusterTarget) -> ClusterRolloutStatus {
        match (self.status.clusters.get(cluster), self.spec.skipped.get(cluster)) {
            (Some(ClusterReport::Updated { .. }), _) => self.gate_status(cluster),
            (Some(ClusterReport::Failed { reason, rolled_back }), _) => ClusterRolloutStatus::Failed {
                reason: reason.clone(),
                rolled_back: *rolled_back,
            },
            (Some(ClusterReport::RolledBack), _) => ClusterRolloutStatus::RolledBack,
            (_, Some(reason)) => ClusterRolloutStatus::Skipped { reason: reason.clone() },
            (Some(ClusterReport::Updating { .. }), None) => ClusterRolloutStatus::Updating,
            (None, None) => ClusterRolloutStatus::Pending,
        }
    }

    /// An updated cluster's place with respect to the gate.
    fn gate_status(&self, cluster: &ClusterTarget) -> ClusterRolloutStatus {
        if self.spec.gate.is_none() {
            return ClusterRolloutStatus::Updated;
        }
        match self.status.gates.get(cluster) {
            Some(GateReport::Passed) => ClusterRolloutStatus::Updated,
            Some(GateReport::Breached {
                node, series, value, ..
            }) => ClusterRolloutStatus::GateBreached {
                node: node.clone(),
                series: series.clone(),
                value: value.clone(),
            },
            None => ClusterRolloutStatus::Verifying {
                since_unix_ms: self.status.updated_at_ms.get(cluster).copied().unwrap_or(0),
            },
        }
    }

    /// Clusters that breached the gate and that no pause has answered yet, in plan order.
    pub fn unanswered_breaches(&self) -> Vec<ClusterTarget> {
        self.cluster_statuses()
            .filter(|(c, s)| {
                matches!(s, ClusterRolloutStatus::GateBreached { .. }) && !self.spec.gate_pauses.contains(c)
            })
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// Every planned cluster with its status, wave by wave.
    pub fn cluster_statuses(&self) -> impl Iterator<Item = (&ClusterTarget, ClusterRolloutStatus)> + '_ {
        self.spec.plan.iter().flatten().map(|c| (c, self.cluster_status(c)))
    }

    /// Clusters whose update failed.
    pub fn failures(&self) -> u32 {
        let failed = self
            .status
            .clusters
            .values()
            .filter(|r| matches!(r, ClusterReport::Failed { .. }))
            .count();
        u32::try_from(failed).unwrap_or(u32::MAX)
    }

    /// True when more clusters failed than the budget allows (beyond the failures accepted on resume).
    pub fn budget_spent(&self) -> bool {
        self.failures() > self.spec.failure_budget.saturating_add(self.spec.failures_accepted)
    }

    /// True if every cluster of `wave` is settled (the health gate before the next wave).
    pub fn wave_settled(&self, wave: u32) -> bool {
        self.wave(wave).iter().all(|c| self.cluster_status(c).is_settled())
    }

    /// True when the hub has nothing left to do: after an abort, once nothing is left to roll back; otherwise once
    /// every wave is released, every cluster settled and every gate breach accepted.
    pub fn is_complete(&self) -> bool {
        if !self.created() {
            return false;
        }
        if self.spec.aborted {
            return !self.status.clusters.values().any(ClusterReport::needs_roll_back);
        }
        let all_released = (0..self.wave_count()).all(|w| self.is_released(w));
        // A gate breach is answered by a pause and accepted by the resume that follows; until then the rollout is
        // not complete, even with every cluster settled.
        let breaches_accepted =
            self.unanswered_breaches().is_empty() && self.spec.paused != Some(PauseReason::GateBreached);
        all_released && self.cluster_statuses().all(|(_, s)| s.is_settled()) && breaches_accepted
    }
}
