//! `rollouts explain`, from history: given a gated rollout's merged history (hub plan and site companions), the
//! explanation names every decision with its reason — the breach's metric, node and value included — and what the
//! rollout waits on now. Pinned by insta.

mod rollout_support;

use actors::rollout::explain::{explain, HistoryEvent, RolloutExplanation};
use events::rollout::{PauseReason, RolloutEvent};
use events::Hlc;
use rollout_support::*;

fn at(seconds: u64, by: Option<&str>, event: RolloutEvent) -> HistoryEvent {
    HistoryEvent {
        at: Hlc {
            physical_ms: 1_800_000_000_000 + seconds * 1000,
            logical: 0,
        },
        by: by.map(str::to_string),
        event,
    }
}

fn controller(seconds: u64, event: RolloutEvent) -> HistoryEvent {
    at(seconds, Some("controller"), event)
}

fn render(explanation: &RolloutExplanation) -> String {
    let mut out: Vec<String> = explanation
        .steps
        .iter()
        .map(|s| {
            format!(
                "+{:>4}s  {:<28} {}",
                (s.at_unix_ms - 1_800_000_000_000) / 1000,
                s.event,
                s.text
            )
        })
        .collect();
    out.push("now:".into());
    out.extend(explanation.now.iter().map(|l| format!("  {l}")));
    out.join("\n")
}

/// A gated rollout over [site-1/a], [site-1/b, site-2/a]: the canary passes, site-2/a breaches in wave 1.
fn gated_history() -> Vec<HistoryEvent> {
    let created = Creation {
        plan: two_waves(),
        ..Creation::default()
    }
    .event();
    vec![
        at(0, Some("alice"), created),
        at(
            0,
            Some("alice"),
            RolloutEvent::GateSet {
                generation: 1,
                gate: "node_load1 < 4 for 2m".into(),
            },
        ),
        controller(1, released(0, 1)),
        controller(2, started("site-1", "a")),
        controller(40, updated("site-1", "a")),
        controller(
            161,
            RolloutEvent::ClusterGatePassed {
                cluster: target("site-1", "a"),
            },
        ),
        controller(162, released(1, 162)),
        controller(163, started("site-1", "b")),
        controller(164, started("site-2", "a")),
        controller(200, updated("site-1", "b")),
        controller(210, updated("site-2", "a")),
        controller(
            226,
            RolloutEvent::ClusterGateBreached {
                cluster: target("site-2", "a"),
                node: testkit::token("n2"),
                series: "node_load1".into(),
                value: "7.25".into(),
                sampled_unix_ms: 1_800_000_225_000,
            },
        ),
        controller(
            227,
            RolloutEvent::PausedForGate {
                generation: 4,
                clusters: vec![target("site-2", "a")],
            },
        ),
    ]
}

#[test]
fn a_gate_breach_is_explained_with_its_metric_node_and_value() {
    let history = gated_history();
    let explanation = explain(&history);
    let paused = explanation
        .steps
        .iter()
        .find(|s| s.event == "RolloutPausedForGate")
        .expect("the pause is explained");
    assert!(
        paused.text.contains("node_load1 = 7.25")
            && paused.text.contains("node n2")
            && paused.text.contains("site-2/a"),
        "{}",
        paused.text
    );
    insta::assert_snapshot!("gate_breached_and_paused", render(&explanation));
}

#[test]
fn a_resumed_rollout_explains_the_accepted_breach_and_completes() {
    let mut history = gated_history();
    history.extend([
        at(
            300,
            Some("bob"),
            RolloutEvent::Resumed {
                generation: 5,
                failures_accepted: 0,
            },
        ),
        controller(
            330,
            RolloutEvent::ClusterGatePassed {
                cluster: target("site-1", "b"),
            },
        ),
    ]);
    insta::assert_snapshot!("resumed_and_complete", render(&explain(&history)));
}

#[test]
fn a_rollout_paused_for_its_budget_names_the_failures() {
    let created = Creation {
        plan: two_waves(),
        failure_budget: 0,
        ..Creation::default()
    }
    .event();
    let history = vec![
        at(0, Some("alice"), created),
        controller(1, released(0, 1)),
        controller(2, started("site-1", "a")),
        controller(30, failed("site-1", "a")),
        controller(31, paused(3, PauseReason::FailureBudgetSpent)),
    ];
    insta::assert_snapshot!("budget_spent", render(&explain(&history)));
}
