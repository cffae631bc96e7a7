//! Rollout hub decisions, given / when / then: create, pause, resume, abort, release a wave, skip a cluster.
//! (Site reports: `rollout_site_reports.rs`; next steps and plans: `rollout_steps.rs`, `rollout_plan.rs`.)

mod rollout_support;

use actors::rollout::{ClusterRolloutStatus, RolloutCommand};
use events::rollout::{ClusterTarget, PauseReason, RolloutEvent};
use rollout_support::*;
use testkit::given;

/// Waves: [site-1/a], [site-1/b, site-2/a]; budget 1; skip after 600 s; created at 1 s (the decision's HLC).
fn created() -> RolloutEvent {
    Creation {
        selector: [("tier".to_string(), "edge".to_string())].into(),
        plan: two_waves(),
        ..Creation::default()
    }
    .event()
}

fn create(version: u32, waves: &str, budget: u32, window: Option<&str>, skip_after_s: u64) -> RolloutCommand {
    let targets = vec![target("site-2", "a"), target("site-1", "b"), target("site-1", "a")];
    create_over(version, waves, budget, window, skip_after_s, targets)
}

fn create_over(
    version: u32,
    waves: &str,
    failure_budget: u32,
    window: Option<&str>,
    skip_after_s: u64,
    targets: Vec<ClusterTarget>,
) -> RolloutCommand {
    RolloutCommand::Create {
        profile: profile(version),
        selector: [("tier".to_string(), "edge".to_string())].into(),
        waves: waves.into(),
        failure_budget,
        window: window.map(|w| actors::rollout::parse_window(w).expect("valid window")),
        skip_after_s,
        gate: None,
        targets,
    }
}

#[test]
fn create_plans_the_waves_from_sorted_targets() {
    let state = given::<RolloutEvent>(&[])
        .when(create(2, "1,100%", 1, None, 600))
        .then(&[created()]);
    assert_eq!(state.current_wave(), None);
    given(&[created()])
        .when(create(2, "1,100%", 1, None, 600))
        .then_nothing();
    given(&[created()])
        .when(create(3, "1,100%", 1, None, 600))
        .then_rejected(conflict);
    let mut windowed = created();
    if let RolloutEvent::Created { window, .. } = &mut windowed {
        *window = Some("Sat 02:00-05:00".into());
    }
    given::<RolloutEvent>(&[])
        .when(create(2, "1,100%", 1, Some("Sat 02:00-05:00"), 600))
        .then(&[windowed]);
}

#[test]
fn create_refuses_what_cannot_roll_out() {
    let cases = [
        ("waves not ending at 100%", create(2, "1,50%", 1, None, 600)),
        ("no targets", create_over(2, "1,100%", 0, None, 600, vec![])),
        ("budget not below the targets", create(2, "1,100%", 3, None, 600)),
        ("no skip deadline", create(2, "1,100%", 1, None, 0)),
    ];
    for (name, command) in cases {
        let rejection = given::<RolloutEvent>(&[]).when(command).then_rejected(invalid);
        println!("{name}: {rejection}");
    }
    let mut bad_selector = create(2, "1,100%", 1, None, 600);
    if let RolloutCommand::Create { selector, .. } = &mut bad_selector {
        selector.insert("tier".into(), "no spaces".into());
    }
    given::<RolloutEvent>(&[]).when(bad_selector).then_rejected(invalid);
}

#[test]
fn hub_commands_need_a_created_rollout() {
    let skip = RolloutCommand::Skip {
        cluster: target("site-1", "a"),
        reason: "offline".into(),
    };
    for command in [
        RolloutCommand::Pause,
        RolloutCommand::PauseForBudget,
        RolloutCommand::Resume,
        RolloutCommand::Abort,
        RolloutCommand::ReleaseWave(0),
        skip,
    ] {
        given::<RolloutEvent>(&[]).when(command).then_rejected(not_found);
    }
}

#[test]
fn pause_resume_and_abort_are_idempotent() {
    let operator = paused(2, PauseReason::Operator);
    given(&[created()])
        .when(RolloutCommand::Pause)
        .then(&[paused(2, PauseReason::Operator)]);
    given(&[created(), operator.clone()])
        .when(RolloutCommand::Pause)
        .then_nothing();
    given(&[created()]).when(RolloutCommand::Resume).then_nothing();
    let resumed = RolloutEvent::Resumed {
        generation: 3,
        failures_accepted: 0,
    };
    given(&[created(), operator])
        .when(RolloutCommand::Resume)
        .then(&[resumed]);
    given(&[created()]).when(RolloutCommand::Abort).then(&[aborted(2)]);
    given(&[created(), aborted(2)])
        .when(RolloutCommand::Abort)
        .then_nothing();
    for command in [RolloutCommand::Pause, RolloutCommand::Resume] {
        given(&[created(), aborted(2)]).when(command).then_rejected(conflict);
    }
}

#[test]
fn a_complete_rollout_cannot_be_paused() {
    let history = [
        created(),
        released(0, 10),
        started("site-1", "a"),
        updated("site-1", "a"),
        released(1, 20),
        started("site-1", "b"),
        updated("site-1", "b"),
        started("site-2", "a"),
        updated("site-2", "a"),
    ];
    given(&history).when(RolloutCommand::Pause).then_rejected(conflict);
}

#[test]
fn a_spent_budget_pauses_and_resuming_accepts_the_failures() {
    given(&[created(), released(0, 10)])
        .when(RolloutCommand::PauseForBudget)
        .then_rejected(conflict);
    let spent = [
        created(),
        released(0, 10),
        started("site-1", "a"),
        failed("site-1", "a"),
        released(1, 20),
        started("site-1", "b"),
        failed("site-1", "b"),
    ];
    let budget_pause = paused(4, PauseReason::FailureBudgetSpent);
    let state = given(&spent)
        .when(RolloutCommand::PauseForBudget)
        .then(&[paused(4, PauseReason::FailureBudgetSpent)]);
    assert_eq!((state.failures(), state.budget_spent()), (2, true));
    given(&then(&spent, &[paused(4, PauseReason::FailureBudgetSpent)]))
        .when(RolloutCommand::PauseForBudget)
        .then_nothing();
    let resumed = RolloutEvent::Resumed {
        generation: 5,
        failures_accepted: 2,
    };
    let state = given(&then(&spent, &[budget_pause]))
        .when(RolloutCommand::Resume)
        .then(&[resumed]);
    assert!(!state.budget_spent(), "resuming gives the rollout its budget again");
}

#[test]
fn waves_are_released_in_order_behind_the_health_gate() {
    let release = |wave| RolloutEvent::WaveReleased {
        generation: u64::from(wave) + 2,
        wave,
        released_unix_s: 1,
    };
    given(&[created()])
        .when(RolloutCommand::ReleaseWave(0))
        .then(&[release(0)]);
    given(&[created(), released(0, 10)])
        .when(RolloutCommand::ReleaseWave(0))
        .then_nothing();
    given(&[created()])
        .when(RolloutCommand::ReleaseWave(1))
        .then_rejected(conflict);
    given(&[created()])
        .when(RolloutCommand::ReleaseWave(2))
        .then_rejected(not_found);
    // The canary is still updating: the gate is closed.
    let canary = [created(), released(0, 10), started("site-1", "a")];
    given(&canary)
        .when(RolloutCommand::ReleaseWave(1))
        .then_rejected(conflict);
    given(&then(&canary, &[updated("site-1", "a")]))
        .when(RolloutCommand::ReleaseWave(1))
        .then(&[release(1)]);
    // A failure within the budget does not hold the gate.
    given(&then(&canary, &[failed("site-1", "a")]))
        .when(RolloutCommand::ReleaseWave(1))
        .then(&[release(1)]);
}

#[test]
fn no_wave_is_released_while_paused_aborted_or_over_budget() {
    let settled = [
        created(),
        released(0, 10),
        started("site-1", "a"),
        updated("site-1", "a"),
    ];
    for stop in [paused(3, PauseReason::Operator), aborted(3)] {
        given(&then(&settled, &[stop]))
            .when(RolloutCommand::ReleaseWave(1))
            .then_rejected(conflict);
    }
    let mut no_budget = created();
    if let RolloutEvent::Created { failure_budget, .. } = &mut no_budget {
        *failure_budget = 0;
    }
    given(&[
        no_budget,
        released(0, 10),
        started("site-1", "a"),
        failed("site-1", "a"),
    ])
    .when(RolloutCommand::ReleaseWave(1))
    .then_rejected(conflict);
}

#[test]
fn the_hub_skips_clusters_of_released_waves_only() {
    let skip = |site: &str, cluster: &str| RolloutCommand::Skip {
        cluster: target(site, cluster),
        reason: "site offline".into(),
    };
    let released_canary = [created(), released(0, 10)];
    let state = given(&released_canary)
        .when(skip("site-1", "a"))
        .then(&[skipped(3, "site-1", "a")]);
    let status = state.cluster_status(&target("site-1", "a"));
    assert_eq!(
        status,
        ClusterRolloutStatus::Skipped {
            reason: "site offline".into()
        }
    );
    given(&then(&released_canary, &[skipped(3, "site-1", "a")]))
        .when(skip("site-1", "a"))
        .then_nothing();
    given(&released_canary)
        .when(skip("site-2", "a"))
        .then_rejected(conflict);
    given(&released_canary)
        .when(skip("site-9", "a"))
        .then_rejected(not_found);
    given(&then(
        &released_canary,
        &[started("site-1", "a"), updated("site-1", "a")],
    ))
    .when(skip("site-1", "a"))
    .then_rejected(conflict);
    let no_reason = RolloutCommand::Skip {
        cluster: target("site-1", "a"),
        reason: " ".into(),
    };
    given(&released_canary).when(no_reason).then_rejected(invalid);
}

#[test]
fn state_reports_the_wave_and_status_of_every_cluster() {
    let given = given(&[created(), released(0, 10), started("site-1", "a")]);
    let state = given.state();
    assert_eq!(state.current_wave(), Some(0));
    assert_eq!(state.wave_of(&target("site-2", "a")), Some(1));
    assert_eq!(state.wave_of(&target("site-3", "a")), None);
    let statuses: Vec<_> = state.cluster_statuses().map(|(c, s)| (c.to_string(), s)).collect();
    let expected = [
        ("site-1/a".to_string(), ClusterRolloutStatus::Updating),
        ("site-1/b".to_string(), ClusterRolloutStatus::Pending),
        ("site-2/a".to_string(), ClusterRolloutStatus::Pending),
    ];
    assert_eq!(statuses, expected);
}
