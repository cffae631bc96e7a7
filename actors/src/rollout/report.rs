//! Site reports on a rollout: started, updated, failed, rolled back. Pure, like `decide`.
//!
//! A site reports only its own clusters, only clusters of the plan, and only transitions that follow from its
//! last report (a start before a result); a repeated report yields no events.

use super::decide::planned_wave;
use super::state::{ClusterReport, GateReport, RolloutState};
use crate::aggregate::DecideContext;
use crate::rejection::Rejection;
use events::cluster::ProfileRef;
use events::rollout::{ClusterTarget, RolloutEvent};

/// Checks a site report: the rollout's plan is known here, the cluster is in it, and it belongs to the site whose
/// companion aggregate decides (a site reports only its own clusters). Returns the cluster's last report.
fn own_cluster<'s>(
    state: &'s RolloutState,
    cluster: &ClusterTarget,
    ctx: &DecideContext<'_>,
) -> Result<Option<&'s ClusterReport>, Rejection> {
    if !state.created() {
        return Err(Rejection::NotFound(
            "the rollout's plan has not reached this site yet".into(),
        ));
    }
    if let Some(site) = ctx.aggregate.scope.site() {
        if *site != cluster.site {
            return Err(Rejection::WrongWriter(format!(
                "site {site} cannot report on {cluster}, a cluster of another site"
            )));
        }
    }
    planned_wave(state, cluster)?;
    Ok(state.status.clusters.get(cluster))
}

/// The site starts updating `cluster`: only a pending cluster of a released wave of a running rollout.
pub(super) fn started(
    state: &RolloutState,
    cluster: ClusterTarget,
    ctx: &DecideContext<'_>,
) -> Result<Vec<RolloutEvent>, Rejection> {
    let report = own_cluster(state, &cluster, ctx)?;
    match report {
        Some(ClusterReport::Updating { .. } | ClusterReport::Updated { .. }) => return Ok(vec![]),
        Some(ClusterReport::Failed { .. }) => {
            return Err(Rejection::Conflict(format!(
                "{cluster} failed its update; a rollout does not retry a failed cluster"
            )))
        }
        Some(ClusterReport::RolledBack) => {
            return Err(Rejection::Conflict(format!("{cluster} was rolled back")));
        }
        None => {}
    }
    let refuse = |why: &str| Err(Rejection::Conflict(format!("cannot start updating {cluster}: {why}")));
    if state.spec.aborted {
        return refuse("the rollout was aborted");
    }
    if state.spec.paused.is_some() {
        return refuse("the rollout is paused");
    }
    if state.budget_spent() {
        return refuse("the failure budget is spent");
    }
    if let Some(breached) = state.unanswered_breaches().first() {
        return refuse(&format!("{breached} breached the rollout's gate"));
    }
    if state.spec.skipped.contains_key(&cluster) {
        return refuse("the hub skipped it");
    }
    let wave = planned_wave(state, &cluster)?;
    if !state.is_released(wave) {
        return refuse(&format!("its wave {wave} is not released"));
    }
    Ok(vec![RolloutEvent::ClusterUpdateStarted {
        cluster,
        observed_generation: state.spec.generation,
    }])
}

/// The site finished updating `cluster` to the rollout's profile.
pub(super) fn updated(
    state: &RolloutState,
    cluster: ClusterTarget,
    profile: ProfileRef,
    ctx: &DecideContext<'_>,
) -> Result<Vec<RolloutEvent>, Rejection> {
    let report = own_cluster(state, &cluster, ctx)?;
    if let Some(target) = state.spec.profile.as_ref().filter(|target| **target != profile) {
        return Err(Rejection::Invalid(format!(
            "{cluster} reports {profile}, but the rollout moves clusters to {target}"
        )));
    }
    match report {
        Some(ClusterReport::Updating { .. }) => Ok(vec![RolloutEvent::ClusterUpdated { cluster, profile }]),
        Some(ClusterReport::Updated { .. }) => Ok(vec![]),
        other => Err(not_updating(&cluster, other)),
    }
}

/// The update of `cluster` failed (a later report may add that the site reverted it).
pub(super) fn failed(
    state: &RolloutState,
    cluster: ClusterTarget,
    reason: String,
    rolled_back: bool,
    ctx: &DecideContext<'_>,
) -> Result<Vec<RolloutEvent>, Rejection> {
    let report = own_cluster(state, &cluster, ctx)?;
    if reason.trim().is_empty() {
        return Err(Rejection::Invalid("a failed update needs a reason".into()));
    }
    match report {
        Some(ClusterReport::Failed { rolled_back: was, .. }) if *was == rolled_back || *was => Ok(vec![]),
        Some(ClusterReport::Updating { .. } | ClusterReport::Failed { .. }) => {
            Ok(vec![RolloutEvent::ClusterUpdateFailed {
                cluster,
                reason,
                rolled_back,
            }])
        }
        other => Err(not_updating(&cluster, other)),
    }
}

/// After an abort, `cluster` is back on its previous version.
pub(super) fn rolled_back(
    state: &RolloutState,
    cluster: ClusterTarget,
    ctx: &DecideContext<'_>,
) -> Result<Vec<RolloutEvent>, Rejection> {
    let report = own_cluster(state, &cluster, ctx)?;
    if !state.spec.aborted {
        return Err(Rejection::Conflict(format!(
            "cannot roll back {cluster}: only an aborted rollout rolls clusters back"
        )));
    }
    match report {
        Some(r) if r.needs_roll_back() => Ok(vec![RolloutEvent::ClusterRolledBack { cluster }]),
        Some(ClusterReport::RolledBack | ClusterReport::Failed { rolled_back: true, .. }) => Ok(vec![]),
        _ => Err(Rejection::Conflict(format!(
            "cannot roll back {cluster}: its update never started"
        ))),
    }
}

fn not_updating(cluster: &ClusterTarget, report: Option<&ClusterReport>) -> Rejection {
    let now = match report {
        None => "its update has not started".to_string(),
        Some(r) => format!("it is {r:?}"),
    };
    Rejection::Conflict(format!("{cluster} is not being updated: {now}"))
}

/// The site's verdict on `cluster`'s gate: only for an updated cluster of a rollout with a gate; the first verdict
/// stands (the same again yields no events, a different one is a conflict).
pub(super) fn gate(
    state: &RolloutState,
    cluster: ClusterTarget,
    verdict: GateReport,
    ctx: &DecideContext<'_>,
) -> Result<Vec<RolloutEvent>, Rejection> {
    let report = own_cluster(state, &cluster, ctx)?;
    if state.spec.gate.is_none() {
        return Err(Rejection::Conflict(format!(
            "{cluster}: the rollout has no gate to pass or breach"
        )));
    }
    if !matches!(report, Some(ClusterReport::Updated { .. })) {
        return Err(not_updated(&cluster, report));
    }
    match state.status.gates.get(&cluster) {
        Some(recorded) if *recorded == verdict => return Ok(vec![]),
        Some(recorded) => {
            return Err(Rejection::Conflict(format!(
                "{cluster}'s gate verdict is already recorded: {recorded:?}"
            )))
        }
        None => {}
    }
    Ok(vec![match verdict {
        GateReport::Passed => RolloutEvent::ClusterGatePassed { cluster },
        GateReport::Breached {
            node,
            series,
            value,
            sampled_unix_ms,
        } => {
            if series.trim().is_empty() || value.trim().is_empty() {
                return Err(Rejection::Invalid("a gate breach names its series and value".into()));
            }
            RolloutEvent::ClusterGateBreached {
                cluster,
                node,
                series,
                value,
                sampled_unix_ms,
            }
        }
    }])
}

fn not_updated(cluster: &ClusterTarget, report: Option<&ClusterReport>) -> Rejection {
    let now = match report {
        None => "its update has not started".to_string(),
        Some(r) => format!("it is {r:?}"),
    };
    Rejection::Conflict(format!("{cluster}'s gate is evaluated only once it is updated: {now}"))
}
