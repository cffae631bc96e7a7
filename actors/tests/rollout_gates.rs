//! Telemetry-gated rollouts, given / when / then: a gate set at creation, the site's verdict on each updated
//! cluster, the wave held until every verdict is in, the site holding its own updates at a breach, and the hub
//! pausing for a breach exactly once. Site reports decide as `site-1`'s companion (testkit's `test_aggregate`).

mod rollout_support;

use actors::metric_gate::parse_gate;
use actors::rollout::{ClusterRolloutStatus, GateReport, HubStep, RolloutCommand, RolloutState};
use actors::Aggregate;
use events::rollout::{PauseReason, RolloutEvent};
use rollout_support::*;
use testkit::given;

const GATE: &str = "node_load1 < 4 for 2m";

/// Waves: [site-1/a], [site-1/b, site-2/a]; budget 1; gated on `node_load1 < 4 for 2m`.
fn gated() -> [RolloutEvent; 2] {
    let created = Creation {
        plan: two_waves(),
        ..Creation::default()
    }
    .event();
    [
        created,
        RolloutEvent::GateSet {
            generation: 1,
            gate: GATE.into(),
        },
    ]
}

/// The canary `site-1/a` released and updated.
fn canary_updated() -> Vec<RolloutEvent> {
    then(
        &gated(),
        &[released(0, 10), started("site-1", "a"), updated("site-1", "a")],
    )
}

fn breach(site: &str, cluster: &str) -> RolloutEvent {
    RolloutEvent::ClusterGateBreached {
        cluster: target(site, cluster),
        node: testkit::token("n2"),
        series: "node_load1".into(),
        value: "7.25".into(),
        sampled_unix_ms: 70_000,
    }
}

fn passed(site: &str, cluster: &str) -> RolloutEvent {
    RolloutEvent::ClusterGatePassed {
        cluster: target(site, cluster),
    }
}

fn report(cluster: &str, verdict: GateReport) -> RolloutCommand {
    RolloutCommand::ReportGate {
        cluster: target("site-1", cluster),
        verdict,
    }
}

fn breached_verdict() -> GateReport {
    GateReport::Breached {
        node: testkit::token("n2"),
        series: "node_load1".into(),
        value: "7.25".into(),
        sampled_unix_ms: 70_000,
    }
}

fn step(history: &[RolloutEvent]) -> HubStep {
    RolloutState::from_events(history).next_hub_step(100, |_| true)
}

#[test]
fn a_gate_given_at_creation_is_written_with_it_in_one_decision() {
    let create = |gate: &str| RolloutCommand::Create {
        profile: profile(2),
        selector: Default::default(),
        waves: "1,100%".into(),
        failure_budget: 1,
        window: None,
        skip_after_s: 600,
        gate: Some(parse_gate(gate).expect("gate")),
        targets: two_waves().concat(),
    };
    let state = given::<RolloutEvent>(&[])
        .when(create("node_load1<4 for 120s"))
        .then(&gated());
    assert_eq!(state.spec.gate.as_ref().map(ToString::to_string).as_deref(), Some(GATE));
    given(&gated()).when(create(GATE)).then_nothing();
    given(&gated())
        .when(create("node_load1 < 8 for 2m"))
        .then_rejected(conflict);
}

#[test]
fn an_updated_cluster_holds_its_wave_until_the_site_says_the_gate_passed() {
    let updated = canary_updated();
    let state = RolloutState::from_events(&updated);
    assert!(matches!(
        state.cluster_status(&target("site-1", "a")),
        ClusterRolloutStatus::Verifying { .. }
    ));
    assert_eq!(step(&updated), HubStep::Idle, "the canary is not through its gate");
    assert_eq!(state.gates_due_at(&testkit::token("site-1")).len(), 1);

    given(&updated)
        .when(report("a", GateReport::Passed))
        .then(&[passed("site-1", "a")]);
    let through = then(&updated, &[passed("site-1", "a")]);
    assert_eq!(step(&through), HubStep::ReleaseWave(1));
    assert!(RolloutState::from_events(&through)
        .gates_due_at(&testkit::token("site-1"))
        .is_empty());
    given(&through).when(report("a", GateReport::Passed)).then_nothing();
    given(&through)
        .when(report("a", breached_verdict()))
        .then_rejected(conflict);
}

#[test]
fn a_breach_holds_the_sites_updates_at_once_and_the_hub_pauses_for_it_once() {
    let updated = canary_updated();
    given(&updated)
        .when(report("a", breached_verdict()))
        .then(&[breach("site-1", "a")]);
    let breached = then(&updated, &[breach("site-1", "a"), released(1, 20)]);
    let state = RolloutState::from_events(&breached);
    assert_eq!(
        state.cluster_status(&target("site-1", "a")),
        ClusterRolloutStatus::GateBreached {
            node: testkit::token("n2"),
            series: "node_load1".into(),
            value: "7.25".into()
        }
    );
    // Offline from the hub, the site starts nothing more of this rollout.
    assert!(state.clusters_to_update_at(&testkit::token("site-1")).is_empty());
    given(&breached)
        .when(RolloutCommand::ReportStarted {
            cluster: target("site-1", "b"),
        })
        .then_rejected(conflict);

    assert_eq!(step(&breached), HubStep::PauseForGate(vec![target("site-1", "a")]));
    let pause = RolloutEvent::PausedForGate {
        generation: 4,
        clusters: vec![target("site-1", "a")],
    };
    let state = given(&breached)
        .when(RolloutCommand::PauseForGate(vec![target("site-1", "a")]))
        .then(std::slice::from_ref(&pause));
    assert_eq!(state.spec.paused, Some(PauseReason::GateBreached));
    let paused = then(&breached, &[pause]);
    given(&paused)
        .when(RolloutCommand::PauseForGate(vec![target("site-1", "a")]))
        .then_nothing();

    // The operator's resume accepts the breach: no second pause, and the site goes on.
    let resumed = then(
        &paused,
        &[RolloutEvent::Resumed {
            generation: 5,
            failures_accepted: 0,
        }],
    );
    assert_eq!(step(&resumed), HubStep::Idle, "wave 1 is released and pending");
    assert_eq!(
        RolloutState::from_events(&resumed).clusters_to_update_at(&testkit::token("site-1")),
        vec![target("site-1", "b")]
    );
}

#[test]
fn the_hub_pauses_only_for_real_breaches() {
    given(&canary_updated())
        .when(RolloutCommand::PauseForGate(vec![target("site-1", "a")]))
        .then_rejected(conflict);
}

#[test]
fn a_breach_in_the_last_wave_keeps_the_rollout_from_completing_until_answered() {
    let mut history = then(&canary_updated(), &[passed("site-1", "a"), released(1, 20)]);
    for (site, cluster) in [("site-1", "b"), ("site-2", "a")] {
        history.extend([started(site, cluster), updated(site, cluster)]);
    }
    history.extend([passed("site-1", "b"), breach("site-2", "a")]);
    assert_eq!(step(&history), HubStep::PauseForGate(vec![target("site-2", "a")]));
    let paused = then(
        &history,
        &[RolloutEvent::PausedForGate {
            generation: 5,
            clusters: vec![target("site-2", "a")],
        }],
    );
    assert!(
        !RolloutState::from_events(&paused).is_complete(),
        "paused for the breach, not complete"
    );
    let answered = then(
        &paused,
        &[RolloutEvent::Resumed {
            generation: 6,
            failures_accepted: 0,
        }],
    );
    assert_eq!(step(&answered), HubStep::Complete);
}

#[test]
fn a_verdict_needs_a_gate_and_an_updated_cluster() {
    let ungated = [
        Creation {
            plan: two_waves(),
            ..Creation::default()
        }
        .event(),
        released(0, 10),
        started("site-1", "a"),
        updated("site-1", "a"),
    ];
    given(&ungated)
        .when(report("a", GateReport::Passed))
        .then_rejected(conflict);
    let updating = then(&gated(), &[released(0, 10), started("site-1", "a")]);
    given(&updating)
        .when(report("a", GateReport::Passed))
        .then_rejected(conflict);
    let mut blank = breached_verdict();
    if let GateReport::Breached { series, .. } = &mut blank {
        series.clear();
    }
    given(&canary_updated()).when(report("a", blank)).then_rejected(invalid);
}

#[test]
fn an_aborted_rollout_evaluates_no_gate() {
    let aborted_after_update = then(&canary_updated(), &[aborted(3)]);
    assert!(RolloutState::from_events(&aborted_after_update)
        .gates_due_at(&testkit::token("site-1"))
        .is_empty());
}
