//! Convergence invariant (DESIGN §3): an aggregate's state depends only on each origin's events in that origin's
//! order, never on how hub and site events interleave. Checked over random histories and random interleavings.

use actors::cluster::ClusterState;
use actors::node::NodeState;
use actors::site::SiteState;
use actors::Aggregate;
use events::cluster::{ClusterEvent, ProfileRef};
use events::node::{NodeEvent, NodeRole};
use events::site::SiteEvent;
use events::{Hlc, Token};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn token_of(prefix: &'static str) -> impl Strategy<Value = Token> {
    (0u8..4).prop_map(move |n| testkit::token(&format!("{prefix}{n}")))
}

fn role() -> impl Strategy<Value = NodeRole> {
    prop_oneof![Just(NodeRole::ControlPlane), Just(NodeRole::Worker)]
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[a-c]", "[x-z]{0,2}", 0..3)
}

/// Hub node events; generations are filled in by position.
fn hub_node_event() -> impl Strategy<Value = NodeEvent> {
    prop_oneof![
        (token_of("c"), role()).prop_map(|(cluster, role)| NodeEvent::Assigned {
            generation: 0,
            cluster,
            role
        }),
        Just(NodeEvent::Unassigned { generation: 0 }),
        Just(NodeEvent::ResetRequested { generation: 0 }),
        labels().prop_map(|labels| NodeEvent::LabelsSet { generation: 0, labels }),
    ]
}

fn with_generation(event: NodeEvent, g: u64) -> NodeEvent {
    match event {
        NodeEvent::Assigned { cluster, role, .. } => NodeEvent::Assigned {
            generation: g,
            cluster,
            role,
        },
        NodeEvent::Unassigned { .. } => NodeEvent::Unassigned { generation: g },
        NodeEvent::ResetRequested { .. } => NodeEvent::ResetRequested { generation: g },
        NodeEvent::LabelsSet { labels, .. } => NodeEvent::LabelsSet { generation: g, labels },
        other => other,
    }
}

fn site_node_event() -> impl Strategy<Value = NodeEvent> {
    prop_oneof![
        (0u32..3).prop_map(|n| NodeEvent::Registered {
            inventory: testkit::fixtures::sample_inventory(n)
        }),
        (token_of("c"), role(), 0u64..5).prop_map(|(cluster, role, og)| NodeEvent::Joined {
            cluster,
            role,
            observed_generation: og
        }),
        role().prop_map(|role| NodeEvent::RolePromoted { role }),
        (0u64..5).prop_map(|og| NodeEvent::Provisioning {
            observed_generation: og
        }),
        (0u64..5).prop_map(|og| NodeEvent::Ready {
            observed_generation: og
        }),
        (0u64..5, "[a-z]{1,5}").prop_map(|(og, reason)| NodeEvent::Failed {
            observed_generation: og,
            reason
        }),
        (0u64..5).prop_map(|og| NodeEvent::Left {
            observed_generation: og
        }),
        (0u64..5).prop_map(|og| NodeEvent::ResetToBootstrap {
            observed_generation: og
        }),
        (0u64..1000).prop_map(|ms| NodeEvent::WentSilent {
            last_seen: Hlc {
                physical_ms: ms,
                logical: 0
            }
        }),
        Just(NodeEvent::CameBack),
    ]
}

fn hub_cluster_event() -> impl Strategy<Value = ClusterEvent> {
    let profile = (1u32..4).prop_map(|version| ProfileRef {
        name: testkit::token("p"),
        version,
    });
    prop_oneof![
        (profile.clone(), labels()).prop_map(|(profile, overrides)| ClusterEvent::Created {
            generation: 0,
            profile,
            overrides
        }),
        profile.prop_map(|profile| ClusterEvent::ProfileChanged { generation: 0, profile }),
        labels().prop_map(|labels| ClusterEvent::LabelsSet { generation: 0, labels }),
        Just(ClusterEvent::Deleted { generation: 0 }),
    ]
}

fn site_cluster_event() -> impl Strategy<Value = ClusterEvent> {
    let profile = (1u32..4).prop_map(|version| ProfileRef {
        name: testkit::token("p"),
        version,
    });
    prop_oneof![
        (profile.clone(), 0u64..4).prop_map(|(profile, og)| ClusterEvent::Formed {
            profile,
            observed_generation: og
        }),
        (token_of("n"), role()).prop_map(|(node, role)| ClusterEvent::MemberJoined { node, role }),
        token_of("n").prop_map(|node| ClusterEvent::MemberPromoted { node }),
        token_of("n").prop_map(|node| ClusterEvent::MemberLeft { node }),
        (profile, 0u64..4).prop_map(|(profile, og)| ClusterEvent::Ready {
            profile,
            observed_generation: og
        }),
        "[a-z]{1,5}".prop_map(|reason| ClusterEvent::Degraded { reason }),
        (0u64..4).prop_map(|og| ClusterEvent::Removed {
            observed_generation: og
        }),
    ]
}

fn cluster_generation(event: ClusterEvent, g: u64) -> ClusterEvent {
    match event {
        ClusterEvent::Created { profile, overrides, .. } => ClusterEvent::Created {
            generation: g,
            profile,
            overrides,
        },
        ClusterEvent::ProfileChanged { profile, .. } => ClusterEvent::ProfileChanged { generation: g, profile },
        ClusterEvent::LabelsSet { labels, .. } => ClusterEvent::LabelsSet { generation: g, labels },
        ClusterEvent::Deleted { .. } => ClusterEvent::Deleted { generation: g },
        other => other,
    }
}

/// Interleaves `hub` and `site` by `picks` (true = next hub event), keeping each side's order.
fn interleave<E: Clone>(hub: &[E], site: &[E], picks: &[bool]) -> Vec<E> {
    let (mut h, mut s) = (hub.iter(), site.iter());
    let mut out = Vec::new();
    for pick in picks {
        let next = if *pick {
            h.next().or_else(|| s.next())
        } else {
            s.next().or_else(|| h.next())
        };
        out.extend(next.cloned());
    }
    out.extend(h.cloned());
    out.extend(s.cloned());
    out
}

fn fold_timed<A: Aggregate>(events: &[(A::Event, Hlc)]) -> A {
    let mut state = A::default();
    for (event, at) in events {
        state.apply(event, *at);
    }
    state
}

/// Folds with a zero timestamp for every event.
fn fold_timeless<A: Aggregate>(events: &[A::Event]) -> A {
    A::from_events(events)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn node_state_is_independent_of_interleaving(
        hub in proptest::collection::vec(hub_node_event(), 0..8),
        site in proptest::collection::vec(site_node_event(), 0..12),
        picks in proptest::collection::vec(any::<bool>(), 0..20),
    ) {
        let hub: Vec<_> = hub.into_iter().enumerate().map(|(i, e)| with_generation(e, i as u64 + 1)).collect();
        let reference: NodeState = fold_timeless(&[hub.clone(), site.clone()].concat());
        let interleaved: NodeState = fold_timeless(&interleave(&hub, &site, &picks));
        prop_assert_eq!(reference, interleaved);
    }

    #[test]
    fn cluster_state_is_independent_of_interleaving(
        hub in proptest::collection::vec(hub_cluster_event(), 0..6),
        site in proptest::collection::vec(site_cluster_event(), 0..14),
        picks in proptest::collection::vec(any::<bool>(), 0..20),
    ) {
        let hub: Vec<_> = hub.into_iter().enumerate().map(|(i, e)| cluster_generation(e, i as u64 + 1)).collect();
        let reference: ClusterState = fold_timeless(&[hub.clone(), site.clone()].concat());
        let interleaved: ClusterState = fold_timeless(&interleave(&hub, &site, &picks));
        prop_assert_eq!(reference, interleaved);
    }

    #[test]
    fn site_state_is_independent_of_interleaving(
        labels_sets in proptest::collection::vec(labels(), 0..4),
        registrations in proptest::collection::vec("[A-Z][a-z]{2}/[A-Z][a-z]{3}", 0..4),
        picks in proptest::collection::vec(any::<bool>(), 0..8),
    ) {
        let hub: Vec<_> = labels_sets.into_iter().enumerate()
            .map(|(i, labels)| SiteEvent::LabelsSet { generation: i as u64 + 1, labels }).collect();
        let site: Vec<_> = registrations.into_iter()
            .map(|timezone| SiteEvent::Registered { timezone, controller_version: "0.1.0".into() }).collect();
        let reference: SiteState = fold_timeless(&[hub.clone(), site.clone()].concat());
        let interleaved: SiteState = fold_timeless(&interleave(&hub, &site, &picks));
        prop_assert_eq!(reference, interleaved);
    }

    #[test]
    fn node_state_with_event_times_is_independent_of_interleaving(
        hub in proptest::collection::vec((hub_node_event(), 0u64..10_000), 0..8),
        site in proptest::collection::vec((site_node_event(), 0u64..10_000), 0..12),
        picks in proptest::collection::vec(any::<bool>(), 0..20),
    ) {
        // Each event carries its own HLC (site clocks may be far off the hub's); state fields that hold times
        // (registered_at) must come from the event's own HLC, whatever sits between.
        let hub: Vec<_> = hub.into_iter().enumerate()
            .map(|(i, (e, ms))| (with_generation(e, i as u64 + 1), Hlc { physical_ms: ms, logical: 0 })).collect();
        let site: Vec<_> = site.into_iter().map(|(e, ms)| (e, Hlc { physical_ms: ms, logical: 1 })).collect();
        let reference: NodeState = fold_timed(&[hub.clone(), site.clone()].concat());
        let interleaved: NodeState = fold_timed(&interleave(&hub, &site, &picks));
        prop_assert_eq!(reference, interleaved);
    }
}
