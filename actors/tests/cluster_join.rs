//! How a member gets its Kubernetes on a runtime every machine applies for itself: given the cluster's members and
//! health in the log and what agents report, who initialises the cluster and whom the others join.

use actors::cluster::{ClusterHealth, ClusterState};
use actors::plan::{plan_cluster_join, ClusterJoin, MemberSeen};
use events::node::NodeRole;
use events::Token;
use std::collections::BTreeMap;

fn t(s: &str) -> Token {
    Token::new(s).expect("token")
}

fn cluster(health: ClusterHealth, members: &[(&str, NodeRole)]) -> ClusterState {
    let mut state = ClusterState::default();
    state.status.health = health;
    state.status.members = members.iter().map(|(n, r)| (t(n), *r)).collect();
    state
}

fn serving(address: &str, live: bool) -> MemberSeen {
    MemberSeen {
        address: Some(address.parse().expect("ip")),
        serves: Some(t("main")),
        live,
    }
}

fn idle(address: &str) -> MemberSeen {
    MemberSeen {
        address: Some(address.parse().expect("ip")),
        serves: None,
        live: true,
    }
}

fn join(node: &str, role: NodeRole, state: &ClusterState, seen: &[(&str, MemberSeen)]) -> ClusterJoin {
    let seen: BTreeMap<Token, MemberSeen> = seen.iter().map(|(n, s)| (t(n), s.clone())).collect();
    plan_cluster_join(&t(node), role, &t("main"), state, &seen)
}

use NodeRole::{ControlPlane as Cp, Worker};

#[test]
fn the_first_control_plane_member_of_a_forming_cluster_initialises_it() {
    let state = cluster(ClusterHealth::Forming, &[("n1", Cp), ("n2", Worker)]);
    assert_eq!(join("n1", Cp, &state, &[("n1", idle("10.0.0.1"))]), ClusterJoin::Init);
}

#[test]
fn a_worker_joins_the_server_that_runs_and_waits_while_none_does() {
    let state = cluster(ClusterHealth::Forming, &[("n1", Cp), ("n2", Worker)]);
    assert_eq!(
        join("n2", Worker, &state, &[("n1", idle("10.0.0.1"))]),
        ClusterJoin::Wait("waiting for n1 to start cluster main's first server".into())
    );
    assert_eq!(
        join("n2", Worker, &state, &[("n1", serving("10.0.0.1", true))]),
        ClusterJoin::Via {
            server: t("n1"),
            address: "10.0.0.1".parse().expect("ip")
        }
    );
}

#[test]
fn only_the_lowest_control_plane_member_initialises_even_when_several_were_assigned_at_once() {
    let state = cluster(ClusterHealth::Forming, &[("n1", Cp), ("n2", Cp), ("n3", Cp)]);
    assert_eq!(join("n1", Cp, &state, &[]), ClusterJoin::Init);
    for other in ["n2", "n3"] {
        assert_eq!(
            join(other, Cp, &state, &[]),
            ClusterJoin::Wait("waiting for n1 to start cluster main's first server".into())
        );
    }
    // Once n1 serves, the others join it.
    assert!(matches!(
        join("n3", Cp, &state, &[("n1", serving("10.0.0.1", true))]),
        ClusterJoin::Via { server, .. } if server == t("n1")
    ));
}

#[test]
fn a_cluster_that_was_ready_is_never_initialised_again() {
    // n1, its first server, was lost and left; n2 was promoted and nobody serves: an etcd restore, not a new cluster.
    let state = cluster(ClusterHealth::Ready, &[("n2", Cp), ("n3", Worker)]);
    let decided = join("n2", Cp, &state, &[("n2", idle("10.0.0.2"))]);
    assert!(
        matches!(&decided, ClusterJoin::Wait(why) if why.contains("not initialised again")),
        "{decided:?}"
    );
}

#[test]
fn a_promoted_member_joins_a_surviving_server_not_the_lost_first_one() {
    let state = cluster(ClusterHealth::Ready, &[("n2", Cp), ("n3", Cp), ("n4", Cp)]);
    let seen = [
        ("n1", serving("10.0.0.1", false)), // lost, no longer a member
        ("n2", serving("10.0.0.2", false)), // silent
        ("n3", serving("10.0.0.3", true)),
    ];
    assert_eq!(
        join("n4", Cp, &state, &seen),
        ClusterJoin::Via {
            server: t("n3"),
            address: "10.0.0.3".parse().expect("ip")
        }
    );
}

#[test]
fn servers_that_are_silent_or_without_an_address_are_named_in_the_wait() {
    let state = cluster(ClusterHealth::Ready, &[("n1", Cp), ("n2", Worker)]);
    let no_address = MemberSeen {
        address: None,
        serves: Some(t("main")),
        live: true,
    };
    assert_eq!(
        join("n2", Worker, &state, &[("n1", no_address)]),
        ClusterJoin::Wait("the servers of cluster main (n1) are not heard or have not said their address".into())
    );
}

#[test]
fn a_member_serving_another_cluster_is_not_joined() {
    let state = cluster(ClusterHealth::Forming, &[("n1", Cp), ("n2", Worker)]);
    let elsewhere = MemberSeen {
        serves: Some(t("other")),
        ..serving("10.0.0.1", true)
    };
    assert!(matches!(
        join("n2", Worker, &state, &[("n1", elsewhere)]),
        ClusterJoin::Wait(_)
    ));
}
