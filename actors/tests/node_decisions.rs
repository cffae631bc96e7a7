//! Node decisions, given / when / then.

use actors::node::{NodeCommand, NodeLifecycle, NodePhase};
use actors::Rejection;
use events::node::{NodeEvent, NodeRole, OsUpdateFailure, RootSlot};
use testkit::fixtures::sample_inventory;
use testkit::{given, token};

fn registered() -> NodeEvent {
    NodeEvent::Registered {
        inventory: sample_inventory(1),
    }
}

fn assigned(generation: u64, cluster: &str) -> NodeEvent {
    NodeEvent::Assigned {
        generation,
        cluster: token(cluster),
        role: NodeRole::Worker,
    }
}

#[test]
fn a_registered_node_is_unassigned() {
    let state = given(&[registered()]).state().clone();
    assert_eq!(state.lifecycle(), NodeLifecycle::Unassigned);
    assert_eq!(state.status.phase, NodePhase::Bootstrap);
}

#[test]
fn registering_twice_with_the_same_inventory_changes_nothing() {
    given(&[registered()])
        .when(NodeCommand::Register(sample_inventory(1)))
        .then_nothing();
}

#[test]
fn registering_with_new_inventory_records_it() {
    given(&[registered()])
        .when(NodeCommand::Register(sample_inventory(2)))
        .then(&[NodeEvent::Registered {
            inventory: sample_inventory(2),
        }]);
}

#[test]
fn assigning_a_registered_node_bumps_the_generation() {
    let state = given(&[registered()])
        .when(NodeCommand::Assign {
            cluster: token("c1"),
            role: NodeRole::Worker,
        })
        .then(&[assigned(1, "c1")]);
    assert_eq!(state.lifecycle(), NodeLifecycle::Assigned);
    assert!(state.drifting(), "the site has not acted on generation 1 yet");
}

#[test]
fn assigning_an_unregistered_node_is_rejected() {
    given::<NodeEvent>(&[])
        .when(NodeCommand::Assign {
            cluster: token("c1"),
            role: NodeRole::Worker,
        })
        .then_rejected(|r| matches!(r, Rejection::NotFound(_)));
}

#[test]
fn assigning_a_node_of_another_cluster_is_a_conflict() {
    given(&[registered(), assigned(1, "c1")])
        .when(NodeCommand::Assign {
            cluster: token("c2"),
            role: NodeRole::Worker,
        })
        .then_rejected(|r| matches!(r, Rejection::Conflict(m) if m.contains("c1")));
}

#[test]
fn repeating_an_assignment_is_idempotent() {
    given(&[registered(), assigned(1, "c1")])
        .when(NodeCommand::Assign {
            cluster: token("c1"),
            role: NodeRole::Worker,
        })
        .then_nothing();
}

#[test]
fn joining_acknowledges_the_current_generation() {
    let state = given(&[registered(), assigned(1, "c1")])
        .when(NodeCommand::Join {
            cluster: token("c1"),
            role: NodeRole::Worker,
        })
        .then(&[NodeEvent::Joined {
            cluster: token("c1"),
            role: NodeRole::Worker,
            observed_generation: 1,
        }]);
    assert!(!state.drifting());
}

#[test]
fn provisioning_then_ready() {
    let joined = NodeEvent::Joined {
        cluster: token("c1"),
        role: NodeRole::Worker,
        observed_generation: 1,
    };
    let state = given(&[registered(), assigned(1, "c1"), joined.clone()])
        .when(NodeCommand::ReportProvisioning)
        .then(&[NodeEvent::Provisioning { observed_generation: 1 }]);
    assert_eq!(state.lifecycle(), NodeLifecycle::Provisioning);
    let state = given(&[
        registered(),
        assigned(1, "c1"),
        joined,
        NodeEvent::Provisioning { observed_generation: 1 },
    ])
    .when(NodeCommand::ReportReady)
    .then(&[NodeEvent::Ready { observed_generation: 1 }]);
    assert_eq!(state.lifecycle(), NodeLifecycle::Ready);
}

#[test]
fn ready_outside_a_cluster_is_a_conflict() {
    given(&[registered()])
        .when(NodeCommand::ReportReady)
        .then_rejected(|r| matches!(r, Rejection::Conflict(_)));
}

#[test]
fn a_failure_needs_a_reason() {
    given(&[registered()])
        .when(NodeCommand::ReportFailed("  ".into()))
        .then_rejected(|r| matches!(r, Rejection::Invalid(_)));
}

#[test]
fn reset_is_pending_until_the_site_completes_it() {
    let state = given(&[registered(), assigned(1, "c1")])
        .when(NodeCommand::Reset)
        .then(&[NodeEvent::ResetRequested { generation: 2 }]);
    assert_eq!(state.lifecycle(), NodeLifecycle::Resetting);
    let state = given(&[
        registered(),
        assigned(1, "c1"),
        NodeEvent::ResetRequested { generation: 2 },
    ])
    .when(NodeCommand::CompleteReset)
    .then(&[NodeEvent::ResetToBootstrap { observed_generation: 2 }]);
    assert_eq!(state.lifecycle(), NodeLifecycle::Unassigned);
}

#[test]
fn a_worker_is_promoted_once() {
    let joined = NodeEvent::Joined {
        cluster: token("c1"),
        role: NodeRole::Worker,
        observed_generation: 0,
    };
    given(&[registered(), joined.clone()])
        .when(NodeCommand::Promote)
        .then(&[NodeEvent::RolePromoted {
            role: NodeRole::ControlPlane,
        }]);
    given(&[
        registered(),
        joined,
        NodeEvent::RolePromoted {
            role: NodeRole::ControlPlane,
        },
    ])
    .when(NodeCommand::Promote)
    .then_nothing();
}

#[test]
fn silence_is_recorded_as_transitions_only() {
    let last_seen = events::Hlc {
        physical_ms: 5,
        logical: 0,
    };
    given(&[registered()])
        .when(NodeCommand::MarkSilent { last_seen })
        .then(&[NodeEvent::WentSilent { last_seen }]);
    given(&[registered(), NodeEvent::WentSilent { last_seen }])
        .when(NodeCommand::MarkSilent { last_seen })
        .then_nothing();
    given(&[registered()]).when(NodeCommand::MarkBack).then_nothing();
    given(&[registered(), NodeEvent::WentSilent { last_seen }])
        .when(NodeCommand::MarkBack)
        .then(&[NodeEvent::CameBack]);
}

#[test]
fn labels_are_validated() {
    let bad = [("bad key!".to_string(), "v".to_string())].into();
    given(&[registered()])
        .when(NodeCommand::SetLabels(bad))
        .then_rejected(|r| matches!(r, Rejection::Invalid(_)));
}

#[test]
fn an_os_update_is_started_then_recorded_once() {
    let state = given(&[registered()])
        .when(NodeCommand::ReportOsUpdateStarted("2026.12".into()))
        .then(&[NodeEvent::OsUpdateStarted {
            from_version: None,
            to_version: "2026.12".into(),
        }]);
    assert_eq!(state.status.os_updating_to.as_deref(), Some("2026.12"));
    let started = NodeEvent::OsUpdateStarted {
        from_version: None,
        to_version: "2026.12".into(),
    };
    given(&[registered(), started.clone()])
        .when(NodeCommand::ReportOsUpdateStarted("2026.12".into()))
        .then_nothing();
    let done = given(&[registered(), started.clone()])
        .when(NodeCommand::ReportOsUpdated {
            version: "2026.12".into(),
            slot: RootSlot::B,
        })
        .then(&[NodeEvent::OsUpdated {
            version: "2026.12".into(),
            slot: "ROOT-B".into(),
        }]);
    assert_eq!(
        (done.status.os_version.as_deref(), done.status.os_updating_to),
        (Some("2026.12"), None)
    );
}

#[test]
fn a_rolled_back_update_keeps_the_old_version_and_says_why() {
    let updated = NodeEvent::OsUpdated {
        version: "2026.11".into(),
        slot: "ROOT-A".into(),
    };
    let started = NodeEvent::OsUpdateStarted {
        from_version: Some("2026.11".into()),
        to_version: "2026.12".into(),
    };
    let state = given(&[registered(), updated, started])
        .when(NodeCommand::ReportOsRolledBack {
            failure: OsUpdateFailure {
                attempted: "2026.12".into(),
                reason: "health check failed".into(),
            },
            slot: RootSlot::A,
        })
        .then(&[NodeEvent::OsUpdateRolledBack {
            attempted: "2026.12".into(),
            reason: "health check failed".into(),
            slot: "ROOT-A".into(),
        }]);
    assert_eq!(state.status.os_version.as_deref(), Some("2026.11"));
    assert_eq!(
        state.status.os_last_failure,
        Some(OsUpdateFailure {
            attempted: "2026.12".into(),
            reason: "health check failed".into(),
        })
    );
    assert_eq!(state.status.os_slot, Some(RootSlot::A));
}

const KEY_1: &str = "UAD6XMKND5MI3LHYN4L6PWIDOVCP452HFJVQCDQR2XR3G2YMIF6JRH7S";
const KEY_2: &str = "UBWXPYW5WC6QJ3CP7U2RRVY4XZUEQFEJLRQPZKFUG6VIK3UKDNNKXI7C";

fn identity(key: &str) -> NodeEvent {
    NodeEvent::IdentityIssued { public_key: key.into() }
}

#[test]
fn a_node_joining_for_the_first_time_gets_its_identity() {
    let state = given::<NodeEvent>(&[])
        .when(NodeCommand::IssueIdentity(KEY_1.into()))
        .then(&[identity(KEY_1)]);
    assert_eq!(state.status.identity.as_deref(), Some(KEY_1));
}

#[test]
fn joining_again_with_the_same_key_changes_nothing() {
    given(&[identity(KEY_1), registered()])
        .when(NodeCommand::IssueIdentity(KEY_1.into()))
        .then_nothing();
}

#[test]
fn another_key_for_a_joined_node_is_a_conflict_until_a_reset() {
    let joined = [identity(KEY_1), registered()];
    given(&joined)
        .when(NodeCommand::IssueIdentity(KEY_2.into()))
        .then_rejected(|r| matches!(r, Rejection::Conflict(m) if m.contains("reset")));

    let reset = [
        identity(KEY_1),
        registered(),
        NodeEvent::ResetRequested { generation: 1 },
        NodeEvent::ResetToBootstrap { observed_generation: 1 },
    ];
    let state = given(&reset).state().clone();
    assert_eq!(state.status.identity, None, "a reset revokes the identity");
    given(&reset)
        .when(NodeCommand::IssueIdentity(KEY_2.into()))
        .then(&[identity(KEY_2)]);
}

#[test]
fn leaving_a_cluster_keeps_the_identity() {
    let state = given(&[
        identity(KEY_1),
        registered(),
        NodeEvent::Left { observed_generation: 0 },
    ])
    .state()
    .clone();
    assert_eq!(state.status.identity.as_deref(), Some(KEY_1));
}

#[test]
fn a_malformed_key_is_refused() {
    for key in [
        "",
        "U",
        "NAD6XMKND5MI3LHYN4L6PWIDOVCP452HFJVQCDQR2XR3G2YMIF6JRH7S",
        "u-not-a-key",
    ] {
        given::<NodeEvent>(&[])
            .when(NodeCommand::IssueIdentity(key.into()))
            .then_rejected(|r| matches!(r, Rejection::Invalid(_)));
    }
}
