//! Convergence of a rollout (DESIGN §3): its state is the fold of the hub aggregate and every site's companion,
//! and it must not depend on how those origins interleave — only on each origin's own order.

use actors::rollout::RolloutState;
use actors::Aggregate;
use events::cluster::ProfileRef;
use events::rollout::{ClusterTarget, PauseReason, RolloutEvent, WaveSpec};
use proptest::prelude::*;

const SITES: usize = 3;

fn target(site: usize, cluster: u8) -> ClusterTarget {
    ClusterTarget {
        site: testkit::token(&format!("s{site}")),
        cluster: testkit::token(&format!("c{cluster}")),
    }
}

fn profile(version: u32) -> ProfileRef {
    ProfileRef {
        name: testkit::token("edge"),
        version,
    }
}

fn created() -> RolloutEvent {
    RolloutEvent::Created {
        generation: 0,
        profile: profile(2),
        selector: Default::default(),
        waves: vec![WaveSpec::Count(1), WaveSpec::Percent(100)],
        failure_budget: 1,
        window: None,
        skip_after_s: 60,
        plan: vec![
            vec![target(0, 0)],
            (0..SITES).flat_map(|s| [target(s, 0), target(s, 1)]).skip(1).collect(),
        ],
        created_unix_s: 5,
    }
}

/// Hub events; generations are filled in by position.
fn hub_event() -> impl Strategy<Value = RolloutEvent> {
    let reason = prop_oneof![Just(PauseReason::Operator), Just(PauseReason::FailureBudgetSpent)];
    prop_oneof![
        Just(created()),
        reason.prop_map(|reason| RolloutEvent::Paused { generation: 0, reason }),
        (0u32..4).prop_map(|failures_accepted| RolloutEvent::Resumed {
            generation: 0,
            failures_accepted
        }),
        Just(RolloutEvent::Aborted { generation: 0 }),
        (0u32..3, 0u64..1000).prop_map(|(wave, released_unix_s)| RolloutEvent::WaveReleased {
            generation: 0,
            wave,
            released_unix_s
        }),
        (0..SITES, 0u8..2, "[a-z]{1,4}").prop_map(|(site, cluster, reason)| RolloutEvent::ClusterSkipped {
            generation: 0,
            cluster: target(site, cluster),
            reason
        }),
        (1u32..9).prop_map(|load| RolloutEvent::GateSet {
            generation: 0,
            gate: format!("node_load1 < {load} for 1m"),
        }),
        proptest::collection::vec((0..SITES, 0u8..2), 1..3).prop_map(|clusters| RolloutEvent::PausedForGate {
            generation: 0,
            clusters: clusters.into_iter().map(|(s, c)| target(s, c)).collect(),
        }),
    ]
}

fn with_generation(mut event: RolloutEvent, g: u64) -> RolloutEvent {
    match &mut event {
        RolloutEvent::Created { generation, .. }
        | RolloutEvent::Paused { generation, .. }
        | RolloutEvent::Resumed { generation, .. }
        | RolloutEvent::Aborted { generation }
        | RolloutEvent::WaveReleased { generation, .. }
        | RolloutEvent::ClusterSkipped { generation, .. }
        | RolloutEvent::GateSet { generation, .. }
        | RolloutEvent::PausedForGate { generation, .. } => *generation = g,
        _ => {}
    }
    event
}

/// Events one site writes about its own clusters.
fn site_event(site: usize) -> impl Strategy<Value = RolloutEvent> {
    let cluster = (0u8..2).prop_map(move |c| target(site, c));
    prop_oneof![
        (cluster.clone(), 0u64..5).prop_map(|(cluster, og)| RolloutEvent::ClusterUpdateStarted {
            cluster,
            observed_generation: og
        }),
        (cluster.clone(), 1u32..3).prop_map(|(cluster, v)| RolloutEvent::ClusterUpdated {
            cluster,
            profile: profile(v)
        }),
        (cluster.clone(), "[a-z]{1,4}", any::<bool>()).prop_map(|(cluster, reason, rolled_back)| {
            RolloutEvent::ClusterUpdateFailed {
                cluster,
                reason,
                rolled_back,
            }
        }),
        cluster
            .clone()
            .prop_map(|cluster| RolloutEvent::ClusterRolledBack { cluster }),
        cluster
            .clone()
            .prop_map(|cluster| RolloutEvent::ClusterGatePassed { cluster }),
        (cluster, "[0-9]{1,3}").prop_map(|(cluster, value)| RolloutEvent::ClusterGateBreached {
            cluster,
            node: testkit::token("n1"),
            series: "node_load1".into(),
            value,
            sampled_unix_ms: 7,
        }),
    ]
}

/// The hub's history and each site's, in their own orders.
fn origins() -> impl Strategy<Value = Vec<Vec<RolloutEvent>>> {
    let hub = proptest::collection::vec(hub_event(), 0..10).prop_map(|events| {
        events
            .into_iter()
            .enumerate()
            .map(|(i, e)| with_generation(e, i as u64 + 1))
            .collect::<Vec<_>>()
    });
    let sites: Vec<_> = (0..SITES)
        .map(|s| proptest::collection::vec(site_event(s), 0..8))
        .collect();
    (hub, sites).prop_map(|(hub, sites)| std::iter::once(hub).chain(sites).collect())
}

/// Interleaves the origins by `picks` (each picks the origin of the next event), keeping every origin's order.
fn interleave(origins: &[Vec<RolloutEvent>], picks: &[usize]) -> Vec<RolloutEvent> {
    let mut cursors: Vec<_> = origins.iter().map(|o| o.iter()).collect();
    let mut out = Vec::new();
    for pick in picks {
        let n = cursors.len();
        let next = (0..n).find_map(|k| cursors[(pick + k) % n].next());
        out.extend(next.cloned());
    }
    for cursor in cursors {
        out.extend(cursor.cloned());
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rollout_state_is_independent_of_interleaving(
        origins in origins(),
        picks in proptest::collection::vec(0usize..SITES + 1, 0..40),
    ) {
        let reference = RolloutState::from_events(&origins.concat());
        let interleaved = RolloutState::from_events(&interleave(&origins, &picks));
        prop_assert_eq!(&reference, &interleaved);
        // What the hub and the sites decide next is a function of that state, so it converges too.
        let online = |site: &events::Token| site.as_str() != "s1";
        prop_assert_eq!(reference.next_hub_step(500, online), interleaved.next_hub_step(500, online));
    }

    #[test]
    fn the_order_of_sites_does_not_matter(origins in origins()) {
        let mut reversed = origins.clone();
        reversed[1..].reverse();
        prop_assert_eq!(
            RolloutState::from_events(&origins.concat()),
            RolloutState::from_events(&reversed.concat())
        );
    }
}
