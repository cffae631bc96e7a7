//! Cluster decisions, given / when / then — including the offline formation rule.

use actors::cluster::{ClusterCommand, ClusterHealth, ClusterState};
use actors::Rejection;
use events::cluster::{ClusterEvent, ProfileRef};
use events::node::NodeRole;
use testkit::{given, token};

fn profile(version: u32) -> ProfileRef {
    ProfileRef {
        name: token("edge"),
        version,
    }
}

fn created() -> ClusterEvent {
    ClusterEvent::Created {
        generation: 1,
        profile: profile(1),
        overrides: Default::default(),
    }
}

fn join(node: &str) -> ClusterCommand {
    ClusterCommand::Join {
        node: token(node),
        role: None,
        site_image_profile: None,
    }
}

fn joined(node: &str, role: NodeRole) -> ClusterEvent {
    ClusterEvent::MemberJoined {
        node: token(node),
        role,
    }
}

#[test]
fn the_first_node_forms_the_cluster_as_control_plane() {
    let state = given(&[created()]).when(join("n1")).then(&[
        ClusterEvent::Formed {
            profile: profile(1),
            observed_generation: 1,
        },
        joined("n1", NodeRole::ControlPlane),
    ]);
    assert_eq!(state.status.health, ClusterHealth::Forming);
}

#[test]
fn a_site_image_forms_a_cluster_with_no_hub_intent() {
    given::<ClusterEvent>(&[])
        .when(ClusterCommand::Join {
            node: token("n1"),
            role: None,
            site_image_profile: Some(profile(3)),
        })
        .then(&[
            ClusterEvent::Formed {
                profile: profile(3),
                observed_generation: 0,
            },
            joined("n1", NodeRole::ControlPlane),
        ]);
}

#[test]
fn without_intent_or_site_image_there_is_nothing_to_form() {
    given::<ClusterEvent>(&[])
        .when(join("n1"))
        .then_rejected(|r| matches!(r, Rejection::NotFound(_)));
}

#[test]
fn later_nodes_join_as_workers() {
    let formed = ClusterEvent::Formed {
        profile: profile(1),
        observed_generation: 1,
    };
    given(&[created(), formed, joined("n1", NodeRole::ControlPlane)])
        .when(join("n2"))
        .then(&[joined("n2", NodeRole::Worker)]);
}

#[test]
fn the_fourth_node_promotes_two_workers_to_keep_three_control_planes() {
    let formed = ClusterEvent::Formed {
        profile: profile(1),
        observed_generation: 1,
    };
    let state = given(&[
        created(),
        formed,
        joined("n1", NodeRole::ControlPlane),
        joined("n2", NodeRole::Worker),
        joined("n3", NodeRole::Worker),
    ])
    .when(join("n4"))
    .then(&[
        joined("n4", NodeRole::Worker),
        ClusterEvent::MemberPromoted { node: token("n2") },
        ClusterEvent::MemberPromoted { node: token("n3") },
    ]);
    assert_eq!(state.control_plane_count(), 3);
}

#[test]
fn a_member_joining_again_changes_nothing() {
    let formed = ClusterEvent::Formed {
        profile: profile(1),
        observed_generation: 1,
    };
    given(&[created(), formed, joined("n1", NodeRole::ControlPlane)])
        .when(join("n1"))
        .then_nothing();
}

#[test]
fn creating_twice_with_another_profile_is_a_conflict() {
    given(&[created()])
        .when(ClusterCommand::Create {
            profile: profile(2),
            overrides: Default::default(),
        })
        .then_rejected(|r| matches!(r, Rejection::Conflict(_)));
    given(&[created()])
        .when(ClusterCommand::Create {
            profile: profile(1),
            overrides: Default::default(),
        })
        .then_nothing();
}

#[test]
fn a_deleted_cluster_takes_no_members() {
    given(&[created(), ClusterEvent::Deleted { generation: 2 }])
        .when(join("n1"))
        .then_rejected(|r| matches!(r, Rejection::Conflict(_)));
}

#[test]
fn ready_reports_the_running_profile_and_generation() {
    let formed = ClusterEvent::Formed {
        profile: profile(1),
        observed_generation: 1,
    };
    let state: ClusterState = given(&[created(), formed, joined("n1", NodeRole::ControlPlane)])
        .when(ClusterCommand::ReportReady { profile: profile(1) })
        .then(&[ClusterEvent::Ready {
            profile: profile(1),
            observed_generation: 1,
        }]);
    assert_eq!(state.status.health, ClusterHealth::Ready);
}

/// Defect 4: a site reports only what it observed. With a profile change pending when the members become ready,
/// the cluster runs the old profile, and the change stays unacknowledged so the site still updates it.
#[test]
fn ready_with_a_change_pending_records_what_runs_not_what_is_wanted() {
    let formed = ClusterEvent::Formed {
        profile: profile(1),
        observed_generation: 1,
    };
    let changed = ClusterEvent::ProfileChanged {
        generation: 2,
        profile: profile(2),
    };
    let state: ClusterState = given(&[created(), formed, joined("n1", NodeRole::ControlPlane), changed])
        .when(ClusterCommand::ReportReady { profile: profile(1) })
        .then(&[ClusterEvent::Ready {
            profile: profile(1),
            observed_generation: 1,
        }]);
    assert_eq!(state.status.running_profile, Some(profile(1)));
    assert_eq!(state.spec.profile, Some(profile(2)));
    assert_eq!(
        state.spec.previous_profile,
        Some(profile(1)),
        "where an abort would move it back to"
    );
}

#[test]
fn removal_is_confirmed_only_for_a_deleted_cluster_without_members() {
    let formed = ClusterEvent::Formed {
        profile: profile(1),
        observed_generation: 1,
    };
    given(&[created(), formed.clone()])
        .when(ClusterCommand::ConfirmRemoved)
        .then_rejected(|r| matches!(r, Rejection::Conflict(_)));
    given(&[
        created(),
        formed.clone(),
        joined("n1", NodeRole::ControlPlane),
        ClusterEvent::Deleted { generation: 2 },
    ])
    .when(ClusterCommand::ConfirmRemoved)
    .then_rejected(|r| matches!(r, Rejection::Conflict(_)));
    let state: ClusterState = given(&[created(), formed, ClusterEvent::Deleted { generation: 2 }])
        .when(ClusterCommand::ConfirmRemoved)
        .then(&[ClusterEvent::Removed { observed_generation: 2 }]);
    assert_eq!(state.status.health, ClusterHealth::Removed);
}

#[test]
fn leaving_a_large_cluster_keeps_the_quorum() {
    let formed = ClusterEvent::Formed {
        profile: profile(1),
        observed_generation: 1,
    };
    given(&[
        created(),
        formed,
        joined("n1", NodeRole::ControlPlane),
        joined("n2", NodeRole::ControlPlane),
        joined("n3", NodeRole::ControlPlane),
        joined("n4", NodeRole::Worker),
        joined("n5", NodeRole::Worker),
    ])
    .when(ClusterCommand::Leave(token("n1")))
    .then(&[
        ClusterEvent::MemberLeft { node: token("n1") },
        ClusterEvent::MemberPromoted { node: token("n4") },
    ]);
}

fn ha_of_four() -> Vec<ClusterEvent> {
    vec![
        created(),
        ClusterEvent::Formed {
            profile: profile(1),
            observed_generation: 1,
        },
        joined("n1", NodeRole::ControlPlane),
        joined("n2", NodeRole::Worker),
        joined("n3", NodeRole::Worker),
        joined("n4", NodeRole::Worker),
        ClusterEvent::MemberPromoted { node: token("n2") },
        ClusterEvent::MemberPromoted { node: token("n3") },
    ]
}

#[test]
fn a_control_plane_member_leaving_an_ha_cluster_of_four_promotes_the_worker_to_keep_three() {
    // Seen by hand before: a reset of one of three control-plane nodes left two while the fourth stayed a worker.
    let state = given(&ha_of_four()).when(ClusterCommand::Leave(token("n1"))).then(&[
        ClusterEvent::MemberLeft { node: token("n1") },
        ClusterEvent::MemberPromoted { node: token("n4") },
    ]);
    assert_eq!(state.control_plane_count(), 3);
}

#[test]
fn a_worker_leaving_an_ha_cluster_changes_no_roles() {
    given(&ha_of_four())
        .when(ClusterCommand::Leave(token("n4")))
        .then(&[ClusterEvent::MemberLeft { node: token("n4") }]);
}

#[test]
fn with_no_worker_left_two_control_plane_members_stay_two_until_a_node_joins() {
    let mut history = ha_of_four();
    history.push(ClusterEvent::MemberLeft { node: token("n4") });
    let two = given(&history)
        .when(ClusterCommand::Leave(token("n1")))
        .then(&[ClusterEvent::MemberLeft { node: token("n1") }]);
    assert_eq!(two.control_plane_count(), 2);
    history.push(ClusterEvent::MemberLeft { node: token("n1") });
    let three = given(&history).when(join("n5")).then(&[
        joined("n5", NodeRole::Worker),
        ClusterEvent::MemberPromoted { node: token("n5") },
    ]);
    assert_eq!(three.control_plane_count(), 3);
}

#[test]
fn a_cluster_of_three_that_never_went_ha_keeps_one_control_plane_when_a_worker_leaves() {
    let formed = ClusterEvent::Formed {
        profile: profile(1),
        observed_generation: 1,
    };
    given(&[
        created(),
        formed,
        joined("n1", NodeRole::ControlPlane),
        joined("n2", NodeRole::Worker),
        joined("n3", NodeRole::Worker),
    ])
    .when(ClusterCommand::Leave(token("n3")))
    .then(&[ClusterEvent::MemberLeft { node: token("n3") }]);
}
