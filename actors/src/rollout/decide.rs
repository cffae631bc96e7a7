//! What each rollout command means against the current state: events, or a typed rejection. Pure. Hub commands
//! are decided here, site reports in `report`.
//!
//! Repeating a command that already took effect yields no events (idempotent retries); a command that contradicts
//! the state is a `Conflict`; a cluster the plan does not hold is `NotFound`.

use super::report;
use super::state::RolloutState;
use super::RolloutCommand;
use crate::aggregate::DecideContext;
use crate::labels::validate_labels;
use crate::rejection::Rejection;
use events::rollout::{parse_waves, plan_waves, ClusterTarget, PauseReason, RolloutEvent, WaveSpec};

/// Decides `command` against `state` at `ctx.now` (whose wall time stamps creations and releases).
pub(super) fn decide(
    state: &RolloutState,
    command: RolloutCommand,
    ctx: &DecideContext<'_>,
) -> Result<Vec<RolloutEvent>, Rejection> {
    let now_unix_s = ctx.now.physical_ms / 1000;
    let generation = state.spec.generation + 1;
    let events = match command {
        RolloutCommand::Create {
            profile,
            selector,
            waves,
            failure_budget,
            window,
            skip_after_s,
            gate,
            targets,
        } => {
            let waves = parse_waves(&waves).map_err(Rejection::Invalid)?;
            validate_labels(&selector)?;
            let plan = plan_creation(&targets, &waves, failure_budget, skip_after_s)?;
            let mut created = vec![RolloutEvent::Created {
                generation,
                profile,
                selector,
                waves,
                failure_budget,
                window: window.map(|w| w.to_string()),
                skip_after_s,
                plan,
                created_unix_s: now_unix_s,
            }];
            if let Some(gate) = gate {
                created.push(RolloutEvent::GateSet {
                    generation,
                    gate: gate.to_string(),
                });
            }
            if !state.created() {
                created
            } else if same_creation(state, &created) {
                vec![]
            } else {
                return Err(Rejection::Conflict(
                    "a different rollout with this id exists; create the new one under another id".into(),
                ));
            }
        }
        RolloutCommand::Pause => pause(state, PauseReason::Operator, generation)?,
        RolloutCommand::PauseForBudget => pause(state, PauseReason::FailureBudgetSpent, generation)?,
        RolloutCommand::PauseForGate(clusters) => pause_for_gate(state, clusters, generation)?,
        RolloutCommand::Resume => {
            require_running(state, "resume")?;
            if state.spec.paused.is_none() {
                vec![]
            } else {
                let failures_accepted = if state.budget_spent() {
                    state.failures()
                } else {
                    state.spec.failures_accepted
                };
                vec![RolloutEvent::Resumed {
                    generation,
                    failures_accepted,
                }]
            }
        }
        RolloutCommand::Abort => {
            require_created(state)?;
            if state.spec.aborted {
                vec![]
            } else {
                vec![RolloutEvent::Aborted { generation }]
            }
        }
        RolloutCommand::ReleaseWave(wave) => {
            if release_wave(state, wave)? {
                vec![RolloutEvent::WaveReleased {
                    generation,
                    wave,
                    released_unix_s: now_unix_s,
                }]
            } else {
                vec![]
            }
        }
        RolloutCommand::Skip { cluster, reason } => {
            if skip(state, &cluster, &reason)? {
                vec![RolloutEvent::ClusterSkipped {
                    generation,
                    cluster,
                    reason,
                }]
            } else {
                vec![]
            }
        }
        RolloutCommand::ReportStarted { cluster } => report::started(state, cluster, ctx)?,
        RolloutCommand::ReportUpdated { cluster, profile } => report::updated(state, cluster, profile, ctx)?,
        RolloutCommand::ReportFailed {
            cluster,
            reason,
            rolled_back,
        } => report::failed(state, cluster, reason, rolled_back, ctx)?,
        RolloutCommand::ReportRolledBack { cluster } => report::rolled_back(state, cluster, ctx)?,
        RolloutCommand::ReportGate { cluster, verdict } => report::gate(state, cluster, verdict, ctx)?,
    };
    Ok(events)
}

/// Validates a creation's bounds and plans its waves.
fn plan_creation(
    targets: &[ClusterTarget],
    waves: &[WaveSpec],
    failure_budget: u32,
    skip_after_s: u64,
) -> Result<Vec<Vec<ClusterTarget>>, Rejection> {
    if skip_after_s == 0 {
        return Err(Rejection::Invalid(
            "skip_after_s must be at least 1 s: it is how long an offline site gets before its clusters are skipped"
                .into(),
        ));
    }
    let plan = plan_waves(targets, waves);
    let total: usize = plan.iter().map(Vec::len).sum();
    if total == 0 {
        return Err(Rejection::Invalid(
            "no cluster matches the selector: there is nothing to roll out".into(),
        ));
    }
    if usize::try_from(failure_budget).unwrap_or(usize::MAX) >= total {
        return Err(Rejection::Invalid(format!(
            "failure budget {failure_budget} must be below the {total} targeted clusters, or it could never pause \
             the rollout"
        )));
    }
    Ok(plan)
}

/// True if `created` describes the rollout that exists (a retried creation), whatever its generation and time.
fn same_creation(state: &RolloutState, created: &[RolloutEvent]) -> bool {
    let mut would_be = RolloutState::default();
    for event in created {
        would_be.fold(event, 0);
    }
    let (have, want) = (&state.spec, &would_be.spec);
    (&have.profile, &have.selector, &have.waves, have.failure_budget)
        == (&want.profile, &want.selector, &want.waves, want.failure_budget)
        && (&have.window, have.skip_after_s, &have.plan) == (&want.window, want.skip_after_s, &want.plan)
        && have.gate == want.gate
}

/// Pausing for gate breaches: only for clusters that breached and that no pause answered yet; nothing if every
/// one of them was answered already (a retry).
fn pause_for_gate(
    state: &RolloutState,
    clusters: Vec<ClusterTarget>,
    generation: u64,
) -> Result<Vec<RolloutEvent>, Rejection> {
    require_running(state, "pause")?;
    let unanswered = state.unanswered_breaches();
    if let Some(cluster) = clusters
        .iter()
        .find(|c| !unanswered.contains(c) && !state.spec.gate_pauses.contains(c))
    {
        return Err(Rejection::Conflict(format!(
            "{cluster} has not breached the rollout's gate ({:?})",
            state.cluster_status(cluster)
        )));
    }
    let clusters: Vec<ClusterTarget> = clusters.into_iter().filter(|c| unanswered.contains(c)).collect();
    if clusters.is_empty() {
        return Ok(vec![]);
    }
    Ok(vec![RolloutEvent::PausedForGate { generation, clusters }])
}

/// Pausing: nothing if already paused; the operator may pause any rollout not yet complete, the hub only one whose
/// failure budget is spent.
fn pause(state: &RolloutState, reason: PauseReason, generation: u64) -> Result<Vec<RolloutEvent>, Rejection> {
    require_running(state, "pause")?;
    if state.spec.paused.is_some() {
        return Ok(vec![]);
    }
    match reason {
        PauseReason::Operator if state.is_complete() => Err(Rejection::Conflict(
            "the rollout is complete; there is nothing to pause".into(),
        )),
        PauseReason::FailureBudgetSpent if !state.budget_spent() => Err(Rejection::Conflict(format!(
            "the failure budget is not spent ({} failures, budget {})",
            state.failures(),
            state.spec.failure_budget
        ))),
        _ => Ok(vec![RolloutEvent::Paused { generation, reason }]),
    }
}

fn require_created(state: &RolloutState) -> Result<(), Rejection> {
    if state.created() {
        Ok(())
    } else {
        Err(Rejection::NotFound("the rollout has not been created".into()))
    }
}

fn require_running(state: &RolloutState, what: &str) -> Result<(), Rejection> {
    require_created(state)?;
    if state.spec.aborted {
        return Err(Rejection::Conflict(format!("cannot {what}: the rollout was aborted")));
    }
    Ok(())
}

/// `Ok(true)` if `wave` is to be released now, `Ok(false)` if it already was.
fn release_wave(state: &RolloutState, wave: u32) -> Result<bool, Rejection> {
    require_created(state)?;
    if wave >= state.wave_count() {
        return Err(Rejection::NotFound(format!(
            "wave {wave}: the rollout has waves 0 to {}",
            state.wave_count().saturating_sub(1)
        )));
    }
    if state.is_released(wave) {
        return Ok(false);
    }
    require_running(state, "release a wave")?;
    if state.spec.paused.is_some() {
        return Err(Rejection::Conflict(format!(
            "cannot release wave {wave}: the rollout is paused"
        )));
    }
    let next = state.current_wave().map_or(0, |w| w + 1);
    if wave != next {
        return Err(Rejection::Conflict(format!(
            "waves are released in order: the next is {next}"
        )));
    }
    if state.budget_spent() {
        return Err(Rejection::Conflict(format!(
            "cannot release wave {wave}: {} clusters failed, more than the budget of {}",
            state.failures(),
            state.spec.failure_budget
        )));
    }
    if let Some(previous) = wave.checked_sub(1) {
        let waiting = state
            .wave(previous)
            .iter()
            .filter(|c| !state.cluster_status(c).is_settled())
            .count();
        if waiting > 0 {
            return Err(Rejection::Conflict(format!(
                "cannot release wave {wave}: {waiting} clusters of wave {previous} are not settled yet"
            )));
        }
    }
    Ok(true)
}

/// `Ok(true)` if `cluster` is to be skipped now, `Ok(false)` if it already was.
fn skip(state: &RolloutState, cluster: &ClusterTarget, reason: &str) -> Result<bool, Rejection> {
    require_created(state)?;
    if reason.trim().is_empty() {
        return Err(Rejection::Invalid("skipping a cluster needs a reason".into()));
    }
    let wave = planned_wave(state, cluster)?;
    if state.spec.skipped.contains_key(cluster) {
        return Ok(false);
    }
    require_running(state, "skip a cluster")?;
    if !state.is_released(wave) {
        return Err(Rejection::Conflict(format!(
            "cannot skip {cluster}: its wave {wave} is not released"
        )));
    }
    if state.cluster_status(cluster).is_settled() {
        return Err(Rejection::Conflict(format!(
            "cannot skip {cluster}: its site already reported {:?}",
            state.cluster_status(cluster)
        )));
    }
    Ok(true)
}

/// The wave `cluster` is planned in, or `NotFound`.
pub(super) fn planned_wave(state: &RolloutState, cluster: &ClusterTarget) -> Result<u32, Rejection> {
    state
        .wave_of(cluster)
        .ok_or_else(|| Rejection::NotFound(format!("{cluster} is not part of this rollout")))
}
