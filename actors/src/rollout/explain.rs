//! Why a rollout is where it is, told from its history: every decision that moved it (creation, releases with
//! the health gate that let them through, pauses with their reason — the operator, the failures that spent the
//! budget, the node and value that breached the telemetry gate — resumes, skips, aborts) and what it waits on
//! now. Pure: the caller reads the merged history of the hub aggregate and every site companion (`replay`'s
//! `history`), and this folds it once, phrasing each event against the state just before it.

use super::state::{ClusterRolloutStatus, GateReport, RolloutState};
use crate::aggregate::Aggregate;
use events::rollout::{ClusterTarget, PauseReason, RolloutEvent};
use events::Hlc;
use serde::{Deserialize, Serialize};

/// One event of the rollout's merged history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEvent {
    /// When it was written (hybrid-logical time).
    pub at: Hlc,
    /// Who caused it (operator name, `controller`), if recorded.
    pub by: Option<String>,
    /// The event.
    pub event: RolloutEvent,
}

/// One step of the explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainStep {
    /// When, ms since the epoch.
    pub at_unix_ms: u64,
    /// The event's name (`RolloutPausedForGate`).
    pub event: String,
    /// What happened and why, for the operator.
    pub text: String,
}

/// A rollout's explanation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutExplanation {
    /// The decisions and results that moved it, oldest first.
    pub steps: Vec<ExplainStep>,
    /// Where it stands now and what it waits on.
    pub now: Vec<String>,
}

/// Explains the rollout whose merged history is `history` (oldest first).
pub fn explain(history: &[HistoryEvent]) -> RolloutExplanation {
    let mut state = RolloutState::default();
    let mut steps = Vec::new();
    for entry in history {
        if let Some(text) = phrase(&state, entry) {
            steps.push(ExplainStep {
                at_unix_ms: entry.at.physical_ms,
                event: entry.event.name().to_string(),
                text,
            });
        }
        state.apply(&entry.event, entry.at);
    }
    RolloutExplanation {
        steps,
        now: now(&state),
    }
}

fn by(entry: &HistoryEvent) -> String {
    entry.by.as_deref().map_or(String::new(), |who| format!(" by {who}"))
}

fn list(clusters: &[ClusterTarget]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = clusters.iter().take(SHOWN).map(ToString::to_string).collect();
    if clusters.len() > SHOWN {
        names.push(format!("and {} more", clusters.len() - SHOWN));
    }
    names.join(", ")
}

fn gate_text(state: &RolloutState) -> String {
    state.spec.gate.as_ref().map_or("(none)".into(), ToString::to_string)
}

/// The breach recorded for `cluster`, as `node n2: node_load1 = 7.25`.
fn breach_text(state: &RolloutState, cluster: &ClusterTarget) -> String {
    match state.status.gates.get(cluster) {
        Some(GateReport::Breached {
            node, series, value, ..
        }) => format!("node {node}: {series} = {value}"),
        _ => "no breach recorded".into(),
    }
}

/// Counts of a settled wave, as `2 updated, 1 skipped`.
fn wave_summary(state: &RolloutState, wave: u32) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for cluster in state.wave(wave) {
        let kind = match state.cluster_status(cluster) {
            ClusterRolloutStatus::Updated if state.spec.gate.is_some() => "updated and through the gate",
            ClusterRolloutStatus::Updated => "updated",
            ClusterRolloutStatus::GateBreached { .. } => "breached the gate (accepted)",
            ClusterRolloutStatus::Failed { .. } => "failed within the budget",
            ClusterRolloutStatus::Skipped { .. } => "skipped",
            ClusterRolloutStatus::RolledBack => "rolled back",
            ClusterRolloutStatus::Pending | ClusterRolloutStatus::Updating | ClusterRolloutStatus::Verifying { .. } => {
                "not settled"
            }
        };
        *counts.entry(kind).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text of one event against the state just before it, or `None` for an event that explains nothing new (a
/// start).
fn phrase(before: &RolloutState, entry: &HistoryEvent) -> Option<String> {
    let text = match &entry.event {
        RolloutEvent::Created {
            profile,
            waves,
            failure_budget,
            window,
            plan,
            ..
        } => {
            let clusters: usize = plan.iter().map(Vec::len).sum();
            let waves: Vec<String> = waves.iter().map(ToString::to_string).collect();
            let window = window.as_deref().map_or(String::new(), |w| format!(", window {w}"));
            format!(
                "created{}: {clusters} clusters to {profile} in {} waves ({}), failure budget {failure_budget}{window}",
                by(entry),
                plan.len(),
                waves.join(",")
            )
        }
        RolloutEvent::GateSet { gate, .. } => {
            format!("gate: every node of an updated cluster must hold {gate} before its wave counts as healthy")
        }
        RolloutEvent::WaveReleased { wave, .. } => {
            let clusters = list(before.wave(*wave));
            match wave.checked_sub(1) {
                None => format!("wave 0 (the canary) released: {clusters}"),
                Some(previous) => format!(
                    "wave {wave} released: wave {previous} passed its health gate ({}); now {clusters}",
                    wave_summary(before, previous)
                ),
            }
        }
        RolloutEvent::Paused { reason, .. } => match reason {
            PauseReason::Operator => format!("paused{}", by(entry)),
            PauseReason::FailureBudgetSpent => {
                let failed: Vec<ClusterTarget> = before
                    .cluster_statuses()
                    .filter(|(_, s)| matches!(s, ClusterRolloutStatus::Failed { .. }))
                    .map(|(c, _)| c.clone())
                    .collect();
                format!(
                    "paused: {} clusters failed, beyond the failure budget of {} ({})",
                    before.failures(),
                    before.spec.failure_budget.saturating_add(before.spec.failures_accepted),
                    list(&failed)
                )
            }
            PauseReason::GateBreached => "paused: the telemetry gate was breached".into(),
        },
        RolloutEvent::PausedForGate { clusters, .. } => {
            let breaches: Vec<String> = clusters
                .iter()
                .map(|c| format!("{c} ({})", breach_text(before, c)))
                .collect();
            format!("paused: gate {} breached on {}", gate_text(before), breaches.join("; "))
        }
        RolloutEvent::Resumed { failures_accepted, .. } => {
            let accepted = before.spec.gate_pauses.len();
            let mut text = format!("resumed{}", by(entry));
            if *failures_accepted > before.spec.failures_accepted {
                text += &format!(", accepting {failures_accepted} failures");
            }
            if before.spec.paused == Some(PauseReason::GateBreached) {
                text += &format!(", accepting {accepted} gate breaches");
            }
            text
        }
        RolloutEvent::Aborted { .. } => format!("aborted{}: updated clusters move back", by(entry)),
        RolloutEvent::ClusterSkipped { cluster, reason, .. } => format!("{cluster} skipped: {reason}"),
        RolloutEvent::ClusterUpdateStarted { .. } => return None,
        RolloutEvent::ClusterUpdated { cluster, profile } => {
            let gate = before
                .spec
                .gate
                .as_ref()
                .map_or(String::new(), |g| format!("; its gate window ({g}) opens"));
            format!("{cluster} updated to {profile}{gate}")
        }
        RolloutEvent::ClusterUpdateFailed {
            cluster,
            reason,
            rolled_back,
        } => {
            let back = if *rolled_back { " (the site reverted it)" } else { "" };
            format!("{cluster} failed: {reason}{back}")
        }
        RolloutEvent::ClusterRolledBack { cluster } => format!("{cluster} rolled back"),
        RolloutEvent::ClusterGatePassed { cluster } => {
            format!("{cluster} passed the gate {}", gate_text(before))
        }
        RolloutEvent::ClusterGateBreached {
            cluster,
            node,
            series,
            value,
            ..
        } => format!(
            "{cluster} breached the gate {}: node {node} reported {series} = {value}; the site holds its further \
             updates",
            gate_text(before)
        ),
    };
    Some(text)
}

/// Where the rollout stands and what it waits on.
fn now(state: &RolloutState) -> Vec<String> {
    if !state.created() {
        return vec!["not created".into()];
    }
    if state.spec.aborted {
        let left: Vec<ClusterTarget> = state
            .status
            .clusters
            .iter()
            .filter(|(_, r)| r.needs_roll_back())
            .map(|(c, _)| c.clone())
            .collect();
        return vec![if left.is_empty() {
            "aborted; every updated cluster is back".into()
        } else {
            format!("aborted; waiting for {} to roll back", list(&left))
        }];
    }
    if state.is_complete() {
        return vec![format!("complete: {}", wave_summary_all(state))];
    }
    let mut lines = Vec::new();
    match state.spec.paused {
        Some(PauseReason::GateBreached) => {
            let breaches: Vec<String> = state
                .spec
                .gate_pauses
                .iter()
                .filter(|c| matches!(state.cluster_status(c), ClusterRolloutStatus::GateBreached { .. }))
                .map(|c| format!("{c} ({})", breach_text(state, c)))
                .collect();
            lines.push(format!(
                "paused: gate {} breached on {}; resume to accept, or abort to move updated clusters back",
                gate_text(state),
                breaches.join("; ")
            ));
        }
        Some(PauseReason::FailureBudgetSpent) => lines.push(format!(
            "paused: {} clusters failed, beyond the failure budget; resume to accept them, or abort",
            state.failures()
        )),
        Some(PauseReason::Operator) => lines.push("paused by an operator; resume to go on".into()),
        None => {}
    }
    let breaches = state.unanswered_breaches();
    if !breaches.is_empty() {
        lines.push(format!(
            "gate breached on {}: the hub pauses the rollout when it hears",
            list(&breaches)
        ));
    }
    if let Some(wave) = state.current_wave() {
        let waiting: Vec<String> = state
            .wave(wave)
            .iter()
            .filter_map(|c| match state.cluster_status(c) {
                ClusterRolloutStatus::Pending => Some(format!("{c} pending")),
                ClusterRolloutStatus::Updating => Some(format!("{c} updating")),
                ClusterRolloutStatus::Verifying { since_unix_ms } => {
                    let for_s = state.spec.gate.as_ref().map_or(0, |g| g.for_s);
                    Some(format!(
                        "{c} verifying the gate {} (window of {for_s} s opened {})",
                        gate_text(state),
                        timestamp(since_unix_ms)
                    ))
                }
                _ => None,
            })
            .collect();
        if waiting.is_empty() && wave + 1 < state.wave_count() && state.spec.paused.is_none() {
            lines.push(format!("wave {wave} settled; wave {} is released next", wave + 1));
        } else if !waiting.is_empty() {
            lines.push(format!(
                "wave {wave} of {} waits on: {}",
                state.wave_count(),
                waiting.join("; ")
            ));
        }
    } else if state.spec.paused.is_none() {
        lines.push("no wave released yet".into());
    }
    lines
}

/// `2027-01-15T08:03:20Z`, or the raw milliseconds if out of range.
fn timestamp(unix_ms: u64) -> String {
    i64::try_from(unix_ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or_else(
            || format!("at {unix_ms} ms"),
            |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

fn wave_summary_all(state: &RolloutState) -> String {
    (0..state.wave_count())
        .map(|w| format!("wave {w}: {}", wave_summary(state, w)))
        .collect::<Vec<_>>()
        .join("; ")
}
