//! Rollout next-step tables: the hub's next step (health gate, budget pause, skip after the deadline, complete),
//! the clusters a site updates or rolls back, and maintenance windows.

mod rollout_support;

use actors::rollout::{parse_window, HubStep, RolloutState, Weekday};
use actors::Aggregate;
use events::rollout::{PauseReason, RolloutEvent, WaveSpec};
use events::Token;
use rollout_support::*;
use testkit::token;

/// Waves: [s1/a], [s1/b, s2/a], [s2/b, s3/a]; budget 1; skip after 100 s.
fn created() -> RolloutEvent {
    Creation {
        waves: vec![WaveSpec::Count(1), WaveSpec::Percent(60), WaveSpec::Percent(100)],
        skip_after_s: 100,
        plan: vec![
            vec![target("s1", "a")],
            vec![target("s1", "b"), target("s2", "a")],
            vec![target("s2", "b"), target("s3", "a")],
        ],
        created_unix_s: 0,
        ..Creation::default()
    }
    .event()
}

fn state(events: &[RolloutEvent]) -> RolloutState {
    RolloutState::from_events(events)
}

/// The hub's next step after `history` at `now_unix_s`, with the `offline` sites cut off.
fn step(history: &[RolloutEvent], now_unix_s: u64, offline: &[&str]) -> HubStep {
    let offline: Vec<Token> = offline.iter().map(|s| token(s)).collect();
    state(history).next_hub_step(now_unix_s, |site| !offline.contains(site))
}

#[test]
fn next_hub_step_table() {
    use HubStep::{Complete, Idle, PauseForBudget, ReleaseWave, Skip};
    let canary = [created(), released(0, 10)];
    let canary_updating = then(&canary, &[started("s1", "a")]);
    let canary_done = then(&canary_updating, &[updated("s1", "a")]);
    let wave1 = then(&canary_done, &[released(1, 20)]);
    let wave1_done = [
        started("s1", "b"),
        updated("s1", "b"),
        started("s2", "a"),
        updated("s2", "a"),
    ];
    let wave2_done = [
        started("s2", "b"),
        updated("s2", "b"),
        started("s3", "a"),
        updated("s3", "a"),
    ];
    let all_updated = [wave1.as_slice(), &wave1_done, &[released(2, 30)], &wave2_done].concat();
    let wave1_failed = [
        started("s1", "b"),
        failed("s1", "b"),
        started("s2", "a"),
        failed("s2", "a"),
    ];
    let two_failed = then(&wave1, &wave1_failed);
    let budget_paused = then(&two_failed, &[paused(8, PauseReason::FailureBudgetSpent)]);
    let resumed = RolloutEvent::Resumed {
        generation: 9,
        failures_accepted: 2,
    };
    let cases = [
        ("not created", step(&[], 0, &[]), Idle),
        (
            "created: release the canary",
            step(&[created()], 0, &[]),
            ReleaseWave(0),
        ),
        ("canary pending", step(&canary, 50, &[]), Idle),
        (
            "offline before the deadline",
            step(&canary_updating, 109, &["s1"]),
            Idle,
        ),
        (
            "offline at the deadline",
            step(&canary_updating, 110, &["s1"]),
            Skip(vec![target("s1", "a")]),
        ),
        ("online past the deadline", step(&canary, 500, &[]), Idle),
        ("gate: canary updated", step(&canary_done, 50, &[]), ReleaseWave(1)),
        (
            "gate: failed within budget",
            step(&then(&canary_updating, &[failed("s1", "a")]), 50, &[]),
            ReleaseWave(1),
        ),
        (
            "gate: canary skipped",
            step(&then(&canary, &[skipped(9, "s1", "a")]), 500, &["s1"]),
            ReleaseWave(1),
        ),
        (
            "gate: wave 1 half done",
            step(&then(&wave1, &wave1_done[..2]), 50, &[]),
            Idle,
        ),
        (
            "skip only offline sites",
            step(&wave1, 120, &["s2"]),
            Skip(vec![target("s2", "a")]),
        ),
        ("budget spent", step(&two_failed, 50, &[]), PauseForBudget),
        (
            "paused for the budget",
            step(&budget_paused, 500, &["s1", "s2", "s3"]),
            Idle,
        ),
        (
            "resumed, failures accepted",
            step(&then(&budget_paused, &[resumed]), 50, &[]),
            ReleaseWave(2),
        ),
        (
            "paused by the operator",
            step(&then(&canary_done, &[paused(8, PauseReason::Operator)]), 50, &[]),
            Idle,
        ),
        ("all updated", step(&all_updated, 50, &[]), Complete),
        (
            "complete while paused",
            step(&then(&all_updated, &[paused(8, PauseReason::Operator)]), 50, &[]),
            Complete,
        ),
        (
            "aborted, canary to roll back",
            step(&then(&canary_done, &[aborted(3)]), 50, &[]),
            Idle,
        ),
        (
            "aborted, rolled back",
            step(&then(&canary_done, &[aborted(3), rolled_back("s1", "a")]), 50, &[]),
            Complete,
        ),
    ];
    for (name, got, expected) in cases {
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn sites_update_pending_clusters_of_released_waves() {
    let s1 = token("s1");
    let s2 = token("s2");
    let wave1 = state(&[
        created(),
        released(0, 10),
        started("s1", "a"),
        updated("s1", "a"),
        released(1, 20),
    ]);
    assert_eq!(wave1.clusters_to_update_at(&s1), [target("s1", "b")]);
    assert_eq!(wave1.clusters_to_update_at(&s2), [target("s2", "a")]);
    assert_eq!(wave1.clusters_to_update_at(&token("s3")), []);
    let mut paused_state = wave1.clone();
    paused_state.apply(&paused(8, PauseReason::Operator), Default::default());
    assert_eq!(paused_state.clusters_to_update_at(&s1), []);
    let mut skipped_state = wave1;
    skipped_state.apply(&skipped(9, "s2", "a"), Default::default());
    assert_eq!(skipped_state.clusters_to_update_at(&s2), []);
}

#[test]
fn abort_rolls_back_what_was_touched() {
    let mut reverted = failed("s2", "a");
    if let RolloutEvent::ClusterUpdateFailed { rolled_back, .. } = &mut reverted {
        *rolled_back = false;
    }
    let history = [
        created(),
        released(0, 10),
        started("s1", "a"),
        updated("s1", "a"),
        released(1, 20),
        started("s1", "b"),
        started("s2", "a"),
        reverted,
    ];
    assert_eq!(state(&history).clusters_to_roll_back_at(&token("s1")), []);
    let aborted = state(&[history.as_slice(), &[aborted(4)]].concat());
    assert_eq!(aborted.clusters_to_update_at(&token("s2")), []);
    assert_eq!(
        aborted.clusters_to_roll_back_at(&token("s1")),
        [target("s1", "a"), target("s1", "b")],
        "updated and updating"
    );
    assert_eq!(
        aborted.clusters_to_roll_back_at(&token("s2")),
        [target("s2", "a")],
        "failed without the A/B fallback"
    );
    assert_eq!(aborted.clusters_to_roll_back_at(&token("s3")), []);
}

#[test]
fn windows_of_the_rollout_and_the_site_must_both_be_open() {
    let mut with_window = created();
    if let RolloutEvent::Created { window, .. } = &mut with_window {
        *window = Some("Sat 02:00-05:00".into());
    }
    let windowed = state(&[with_window]);
    let site_window = parse_window("Sat 04:00-06:00").expect("valid window");
    assert!(windowed.window_open(None, Weekday::Sat, 180));
    assert!(!windowed.window_open(Some(&site_window), Weekday::Sat, 180));
    assert!(windowed.window_open(Some(&site_window), Weekday::Sat, 250));
    assert!(!windowed.window_open(None, Weekday::Sun, 180));
    assert!(
        state(&[created()]).window_open(None, Weekday::Mon, 0),
        "no window: any time"
    );
}
