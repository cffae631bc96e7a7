//! The shape of a zero-touch site's NATS: given the meta group and the streams as the controller sees them and the
//! nodes the log knows as no longer control-plane members, which changes come next.

use actors::plan::{plan_nats_shape, NatsPeer, NatsShapeInputs, NatsShapeStep, NatsStream};
use std::collections::BTreeSet;

fn member(name: &str, online: bool) -> NatsPeer {
    NatsPeer {
        name: name.into(),
        witness: false,
        online,
    }
}

fn witness(name: &str) -> NatsPeer {
    NatsPeer {
        name: name.into(),
        witness: true,
        online: true,
    }
}

fn stream(name: &str, replicas: usize, on_members: bool, all_current: bool) -> NatsStream {
    NatsStream {
        name: name.into(),
        replicas,
        on_members,
        all_current,
    }
}

fn plan(
    leader: Option<&str>,
    peers: &[NatsPeer],
    streams: &[NatsStream],
    not_control_plane: &[&str],
) -> Vec<NatsShapeStep> {
    let not_control_plane: BTreeSet<String> = not_control_plane.iter().map(|s| (*s).to_owned()).collect();
    plan_nats_shape(&NatsShapeInputs {
        meta_leader: leader,
        peers,
        streams,
        not_control_plane: &not_control_plane,
    })
}

fn remove(name: &str) -> impl Fn(&NatsShapeStep) -> bool + '_ {
    move |step| matches!(step, NatsShapeStep::RemoveServer { name: n, .. } if n == name)
}

#[test]
fn without_a_meta_leader_nothing_is_decided() {
    let peers = [member("m1", true), witness("witness-of-m1")];
    assert!(plan(None, &peers, &[stream("S", 1, false, true)], &[]).is_empty());
}

#[test]
fn the_first_machine_alone_places_its_streams_on_its_member_server_and_keeps_its_witness() {
    let peers = [member("m1", true), witness("witness-of-m1")];
    let streams = [stream("EF_SITE_s", 1, false, true), stream("EF_INTENT", 1, true, true)];
    assert_eq!(
        plan(Some("witness-of-m1"), &peers, &streams, &[]),
        vec![NatsShapeStep::PlaceOnMembers {
            stream: "EF_SITE_s".into()
        }]
    );
    let placed = [stream("EF_SITE_s", 1, true, true)];
    assert!(plan(Some("witness-of-m1"), &peers, &placed, &[]).is_empty());
}

#[test]
fn two_members_keep_one_copy_and_the_witness() {
    let peers = [member("m1", true), member("m2", true), witness("witness-of-m1")];
    assert!(plan(Some("m1"), &peers, &[stream("S", 1, true, true)], &[]).is_empty());
}

#[test]
fn three_members_online_take_every_stream_to_three_copies() {
    let peers = [
        member("m1", true),
        member("m2", true),
        member("m3", true),
        witness("witness-of-m1"),
    ];
    let streams = [stream("A", 1, true, true), stream("B", 3, true, true)];
    assert_eq!(
        plan(Some("m1"), &peers, &streams, &[]),
        vec![NatsShapeStep::Replicate {
            stream: "A".into(),
            replicas: 3
        }]
    );
}

#[test]
fn the_witness_leaves_only_once_every_stream_has_three_current_copies() {
    let peers = [
        member("m1", true),
        member("m2", true),
        member("m3", true),
        witness("witness-of-m1"),
    ];
    let catching_up = [stream("A", 3, true, false)];
    assert!(plan(Some("m1"), &peers, &catching_up, &[]).is_empty());
    let settled = [stream("A", 3, true, true)];
    let steps = plan(Some("m1"), &peers, &settled, &[]);
    assert_eq!(steps.len(), 1);
    assert!(remove("witness-of-m1")(&steps[0]), "{steps:?}");
}

#[test]
fn a_witness_leading_the_meta_group_steps_down_before_it_is_removed() {
    let peers = [
        member("m1", true),
        member("m2", true),
        member("m3", true),
        witness("witness-of-m1"),
    ];
    assert_eq!(
        plan(Some("witness-of-m1"), &peers, &[stream("A", 3, true, true)], &[]),
        vec![NatsShapeStep::StepDownMetaLeader]
    );
}

#[test]
fn a_lost_member_is_removed_only_once_the_log_replaced_it_and_three_others_are_online() {
    let streams = [stream("A", 3, true, false)];
    // Lost and replaced in the log, but only two others online: kept (its copies have nowhere to go).
    let two_left = [member("m1", false), member("m2", true), member("m3", true)];
    assert!(plan(Some("m2"), &two_left, &streams, &["m1"]).is_empty());
    // A replacement online, but the log still holds m1 as control plane (a reboot, not a loss): kept.
    let replaced = [
        member("m1", false),
        member("m2", true),
        member("m3", true),
        member("m4", true),
    ];
    assert!(plan(Some("m2"), &replaced, &streams, &[]).is_empty());
    // The log replaced it: removed, and only it.
    let steps = plan(Some("m2"), &replaced, &streams, &["m1"]);
    assert_eq!(steps.len(), 1);
    assert!(remove("m1")(&steps[0]), "{steps:?}");
}

#[test]
fn a_server_the_log_does_not_know_yet_is_never_removed() {
    // Given a controller that just took over with its projection still catching up: it knows m5 as a worker but has
    // not read m1 at all, and sees m1 silent (a new meta leader has not heard it yet).
    let peers = [
        member("m1", false),
        member("m2", true),
        member("m3", true),
        member("m4", true),
    ];
    // then m1 stays: only the log's word that it left the control plane removes a server.
    let steps = plan(Some("m2"), &peers, &[stream("A", 3, true, true)], &["m5"]);
    assert!(steps.is_empty(), "{steps:?}");
}

#[test]
fn a_lost_meta_leader_that_the_log_replaced_is_asked_to_step_down_first() {
    let peers = [
        member("m1", false),
        member("m2", true),
        member("m3", true),
        member("m4", true),
    ];
    assert_eq!(
        plan(Some("m1"), &peers, &[stream("A", 3, true, true)], &["m1"]),
        vec![NatsShapeStep::StepDownMetaLeader]
    );
}

#[test]
fn a_stream_never_goes_below_the_copies_it_has() {
    let peers = [member("m1", true), member("m2", true), member("m3", true)];
    let steps = plan(Some("m1"), &peers, &[stream("A", 5, true, true)], &[]);
    assert!(steps.is_empty(), "{steps:?}");
}
