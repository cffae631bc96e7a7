//! Rollout events: moving a label-selected set of clusters to a new profile version in waves.
//!
//! A rollout spans many sites, but a site may only write about aggregates in its own scope (`Envelope::validate`,
//! `ForeignScope`). So one rollout is carried by several aggregates with the same kind and id:
//! - the **hub aggregate** `rollout/all/<id>` (intents on `ef.intent.all.rollout.<id>`): the plan and the
//!   operator's commands — [`RolloutEvent::Created`], `Paused`, `Resumed`, `Aborted`, `WaveReleased`,
//!   `ClusterSkipped`. Every site sources it (it is a fleet-wide intent);
//! - one **site companion** `rollout/<site>/<id>` per site (on `ef.site.<site>.rollout.<id>`): that site's progress
//!   on its own clusters — `ClusterUpdateStarted`, `ClusterUpdated`, `ClusterUpdateFailed`, `ClusterRolledBack`.
//!
//! A rollout's full state is the fold of the hub aggregate plus every companion. Hub events change only the spec
//! and site events only the per-cluster status, keyed by [`ClusterTarget`] — and a site reports only its own
//! clusters — so the fold is the same for every interleaving that keeps each origin's order (DESIGN §3).
//!
//! The plan (clusters per wave) is computed by the hub when the rollout is created and stored in `Created`, so a
//! replay never depends on what the fleet looks like at replay time. Hub events carry the hub's wall time where a
//! decision depends on it (the skip deadline), because `apply` must not read a clock.
//!
//! Like every module of this crate: no I/O.

use crate::cluster::ProfileRef;
use crate::origin::Writer;
use crate::token::Token;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One cluster a rollout updates: the site it lives at and its id there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClusterTarget {
    /// The cluster's site.
    pub site: Token,
    /// The cluster's id at that site.
    pub cluster: Token,
}

impl fmt::Display for ClusterTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.site, self.cluster)
    }
}

/// The cumulative size of one wave: a count of clusters or a percentage of all targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WaveSpec {
    /// Up to this many clusters in total (`1` = a one-cluster canary).
    Count(u32),
    /// Up to this percentage (1–100) of all targets in total, rounded down.
    Percent(u8),
}

impl fmt::Display for WaveSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaveSpec::Count(n) => write!(f, "{n}"),
            WaveSpec::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Why a rollout was paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PauseReason {
    /// The operator paused it.
    Operator,
    /// More clusters failed than the failure budget allows.
    FailureBudgetSpent,
    /// An updated cluster breached the rollout's telemetry gate (`PausedForGate` names which).
    GateBreached,
}

/// Everything that can happen to a rollout. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RolloutEvent {
    /// Hub: the operator created the rollout; the hub resolved the selector and planned the waves.
    Created {
        /// Spec generation this intent creates.
        generation: u64,
        /// The profile version every targeted cluster moves to.
        profile: ProfileRef,
        /// Cluster label selector the targets were chosen by (recorded for the operator).
        selector: BTreeMap<String, String>,
        /// Cumulative wave sizes (`1,10%,50%,100%`).
        waves: Vec<WaveSpec>,
        /// Failures tolerated; one more pauses the rollout.
        failure_budget: u32,
        /// Maintenance window updates must start in (site-local time, `Sat 02:00-05:00`), or `None` for any time.
        window: Option<String>,
        /// How long after its wave was released a cluster of an offline site is skipped.
        skip_after_s: u64,
        /// Clusters per wave, fixed at creation: sorted, every target exactly once, no empty wave.
        plan: Vec<Vec<ClusterTarget>>,
        /// Hub wall time of the creation, in Unix seconds.
        created_unix_s: u64,
    },
    /// Hub: the rollout stopped releasing waves.
    Paused {
        /// Spec generation this intent creates.
        generation: u64,
        /// Why.
        reason: PauseReason,
    },
    /// Hub: the operator resumed a paused rollout.
    Resumed {
        /// Spec generation this intent creates.
        generation: u64,
        /// Failures the operator accepted by resuming: the budget counts only failures beyond these, so a rollout
        /// paused for its budget does not pause again at once. Fixed by the hub when it resumed.
        failures_accepted: u32,
    },
    /// Hub: the operator aborted the rollout; sites roll back what they updated.
    Aborted {
        /// Spec generation this intent creates.
        generation: u64,
    },
    /// Hub: a wave (0 = the canary) was released after the previous one passed its health gate.
    WaveReleased {
        /// Spec generation this intent creates.
        generation: u64,
        /// Index into the plan.
        wave: u32,
        /// Hub wall time of the release, in Unix seconds (starts the skip deadline of the wave's clusters).
        released_unix_s: u64,
    },
    /// Hub: a cluster was given up on (its site stayed offline past the deadline) and no longer holds the rollout.
    ClusterSkipped {
        /// Spec generation this intent creates.
        generation: u64,
        /// The cluster.
        cluster: ClusterTarget,
        /// Why, for the operator.
        reason: String,
    },
    /// Site: the cluster's site started updating it.
    ClusterUpdateStarted {
        /// The cluster.
        cluster: ClusterTarget,
        /// Spec generation acted on.
        observed_generation: u64,
    },
    /// Site: the cluster runs the new profile version and passed its health check.
    ClusterUpdated {
        /// The cluster.
        cluster: ClusterTarget,
        /// Profile version now running.
        profile: ProfileRef,
    },
    /// Site: the update failed.
    ClusterUpdateFailed {
        /// The cluster.
        cluster: ClusterTarget,
        /// What went wrong, for the operator.
        reason: String,
        /// The site already reverted the cluster to its previous version (A/B fallback).
        rolled_back: bool,
    },
    /// Site: after an abort, the cluster was returned to its previous version.
    ClusterRolledBack {
        /// The cluster.
        cluster: ClusterTarget,
    },
    /// Hub: the rollout's telemetry gate, written with `Created` in the same decision (`Created` predates gates,
    /// and an event never changes shape). Canonical text, e.g. `node_load1 < 4 for 2m`.
    GateSet {
        /// Spec generation this intent creates.
        generation: u64,
        /// The gate (`actors::metric_gate`).
        gate: String,
    },
    /// Hub: the rollout paused because these updated clusters breached its gate. A resume accepts them: the hub
    /// never pauses twice for the same cluster.
    PausedForGate {
        /// Spec generation this intent creates.
        generation: u64,
        /// The clusters whose breach this pause answers.
        clusters: Vec<ClusterTarget>,
    },
    /// Site: every node of the updated cluster held the gate's condition through its window.
    ClusterGatePassed {
        /// The cluster.
        cluster: ClusterTarget,
    },
    /// Site: a node of the updated cluster failed the gate's condition; the wave holds, the site starts no more of
    /// the rollout's clusters, and the hub pauses the rollout.
    ClusterGateBreached {
        /// The cluster.
        cluster: ClusterTarget,
        /// The node whose sample failed.
        node: Token,
        /// The series (`node_load1`, `node_filesystem_avail_bytes{mountpoint="/"}`).
        series: String,
        /// The sample's value, as text.
        value: String,
        /// The sample's time, ms since the epoch (the node's clock).
        sampled_unix_ms: u64,
    },
}

impl RolloutEvent {
    /// Which side may write this event.
    pub fn writer(&self) -> Writer {
        match self {
            RolloutEvent::Created { .. }
            | RolloutEvent::Paused { .. }
            | RolloutEvent::Resumed { .. }
            | RolloutEvent::Aborted { .. }
            | RolloutEvent::WaveReleased { .. }
            | RolloutEvent::ClusterSkipped { .. }
            | RolloutEvent::GateSet { .. }
            | RolloutEvent::PausedForGate { .. } => Writer::Hub,
            RolloutEvent::ClusterUpdateStarted { .. }
            | RolloutEvent::ClusterUpdated { .. }
            | RolloutEvent::ClusterUpdateFailed { .. }
            | RolloutEvent::ClusterRolledBack { .. }
            | RolloutEvent::ClusterGatePassed { .. }
            | RolloutEvent::ClusterGateBreached { .. } => Writer::Site,
        }
    }

    /// Short name for histories and logs.
    pub fn name(&self) -> &'static str {
        match self {
            RolloutEvent::Created { .. } => "RolloutCreated",
            RolloutEvent::Paused { .. } => "RolloutPaused",
            RolloutEvent::Resumed { .. } => "RolloutResumed",
            RolloutEvent::Aborted { .. } => "RolloutAborted",
            RolloutEvent::WaveReleased { .. } => "RolloutWaveReleased",
            RolloutEvent::ClusterSkipped { .. } => "RolloutClusterSkipped",
            RolloutEvent::ClusterUpdateStarted { .. } => "RolloutClusterUpdateStarted",
            RolloutEvent::ClusterUpdated { .. } => "RolloutClusterUpdated",
            RolloutEvent::ClusterUpdateFailed { .. } => "RolloutClusterUpdateFailed",
            RolloutEvent::ClusterRolledBack { .. } => "RolloutClusterRolledBack",
            RolloutEvent::GateSet { .. } => "RolloutGateSet",
            RolloutEvent::PausedForGate { .. } => "RolloutPausedForGate",
            RolloutEvent::ClusterGatePassed { .. } => "RolloutClusterGatePassed",
            RolloutEvent::ClusterGateBreached { .. } => "RolloutClusterGateBreached",
        }
    }
}

/// Parses cumulative wave sizes: `1,10%,50%,100%` = a one-cluster canary, then up to 10 %, 50 % and all targets.
///
/// Rules: counts (≥ 1, strictly increasing) come before percentages (1–100, strictly increasing), and the last
/// wave is `100%`, so every selected cluster is updated.
pub fn parse_waves(s: &str) -> Result<Vec<WaveSpec>, String> {
    let mut waves = Vec::new();
    for item in s.split(',').map(str::trim) {
        let wave = if let Some(percent) = item.strip_suffix('%') {
            match percent.trim().parse::<u8>() {
                Ok(p @ 1..=100) => WaveSpec::Percent(p),
                _ => return Err(format!("wave {item:?}: a percentage must be 1% to 100%")),
            }
        } else {
            match item.parse::<u32>() {
                Ok(n @ 1..) => WaveSpec::Count(n),
                _ => {
                    return Err(format!(
                        "wave {item:?}: write a cluster count (1, 5) or a percentage (10%), e.g. \"1,10%,50%,100%\""
                    ))
                }
            }
        };
        match (waves.last(), wave) {
            (Some(WaveSpec::Percent(_)), WaveSpec::Count(_)) => {
                return Err(format!("wave {item:?}: cluster counts must come before percentages"))
            }
            (Some(WaveSpec::Count(a)), WaveSpec::Count(b)) if b <= *a => {
                return Err(format!("wave {item:?}: sizes are cumulative and must grow (after {a})"))
            }
            (Some(WaveSpec::Percent(a)), WaveSpec::Percent(b)) if b <= *a => {
                return Err(format!(
                    "wave {item:?}: sizes are cumulative and must grow (after {a}%)"
                ))
            }
            _ => waves.push(wave),
        }
    }
    if waves.last() != Some(&WaveSpec::Percent(100)) {
        return Err(format!(
            "waves {s:?} must end with 100% so every selected cluster is updated, e.g. \"1,10%,50%,100%\""
        ));
    }
    Ok(waves)
}

/// Splits `targets` into waves: sorted (site, then cluster), cumulative sizes from `waves`, each wave at least one
/// cluster larger than the one before, no empty wave, every distinct target exactly once. Targets left after the
/// last wave (a spec not ending at `100%`) form one more wave. Deterministic: the same input gives the same plan.
pub fn plan_waves(targets: &[ClusterTarget], waves: &[WaveSpec]) -> Vec<Vec<ClusterTarget>> {
    let mut sorted = targets.to_vec();
    sorted.sort();
    sorted.dedup();
    let total = sorted.len();
    let mut plan = Vec::new();
    let mut done = 0;
    for wave in waves {
        if done == total {
            break;
        }
        let wanted = match *wave {
            WaveSpec::Count(n) => usize::try_from(n).unwrap_or(usize::MAX),
            WaveSpec::Percent(p) => total.saturating_mul(usize::from(p.min(100))) / 100,
        };
        let upto = wanted.clamp(done + 1, total);
        plan.push(sorted[done..upto].to_vec());
        done = upto;
    }
    if done < total {
        plan.push(sorted[done..].to_vec());
    }
    debug_assert_eq!(plan.iter().map(Vec::len).sum::<usize>(), total);
    debug_assert!(plan.iter().all(|wave| !wave.is_empty()));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{AggregateKind, AggregateRef, Scope};
    use crate::envelope::{Envelope, EnvelopeError};
    use crate::{decode, encode, subject, EventId, Hlc, Origin};

    fn t(s: &str) -> Token {
        Token::new(s).expect("valid token")
    }

    fn rollout(scope: Scope) -> AggregateRef {
        AggregateRef {
            kind: AggregateKind::Rollout,
            scope,
            id: t("r1"),
        }
    }

    fn envelope(aggregate: AggregateRef, origin: Origin, payload: RolloutEvent) -> Envelope {
        Envelope {
            id: EventId::from_parts(1, 2),
            aggregate,
            origin,
            hlc: Hlc::default(),
            by: None,
            payload: payload.into(),
        }
    }

    #[test]
    fn the_hub_plans_on_all_and_each_site_reports_on_its_companion() {
        let cluster = ClusterTarget {
            site: t("s1"),
            cluster: t("c1"),
        };
        let aborted = envelope(
            rollout(Scope::All),
            Origin::Hub,
            RolloutEvent::Aborted { generation: 2 },
        );
        let started = RolloutEvent::ClusterUpdateStarted {
            cluster,
            observed_generation: 2,
        };
        let own = envelope(rollout(Scope::Site(t("s1"))), Origin::Site(t("s1")), started.clone());
        assert_eq!(aborted.validate(), Ok(()));
        assert_eq!(own.validate(), Ok(()));
        assert_eq!(decode(&encode(&own)).as_ref(), Ok(&own));
        let on_all = envelope(rollout(Scope::All), Origin::Site(t("s1")), started);
        assert!(matches!(on_all.validate(), Err(EnvelopeError::ForeignScope { .. })));
        assert_eq!(
            subject::subject(crate::Writer::Hub, &rollout(Scope::All)).as_deref(),
            Some("ef.intent.all.rollout.r1")
        );
        assert_eq!(
            subject::subject(crate::Writer::Site, &rollout(Scope::Site(t("s1")))).as_deref(),
            Some("ef.site.s1.rollout.r1")
        );
        assert_eq!(subject::subject(crate::Writer::Site, &rollout(Scope::All)), None);
    }
}
