//! The site controller's next step per node, as a table: given spec and status, when reconciling, then this step.

use actors::node::{Membership, NodeState};
use actors::site_reconcile::{next_node_step, NodeReality, NodeStep, SiteImage};
use events::cluster::ProfileRef;
use events::node::{NodeEvent, NodeRole};
use testkit::fixtures::sample_inventory;
use testkit::{given, token};

fn registered() -> NodeEvent {
    NodeEvent::Registered {
        inventory: sample_inventory(1),
    }
}

fn image() -> SiteImage {
    SiteImage {
        cluster: token("main"),
        profile: ProfileRef {
            name: token("edge"),
            version: 1,
        },
    }
}

fn member(cluster: &str, role: NodeRole) -> Membership {
    Membership {
        cluster: token(cluster),
        role,
    }
}

fn joined(cluster: &str, role: NodeRole, observed_generation: u64) -> NodeEvent {
    NodeEvent::Joined {
        cluster: token(cluster),
        role,
        observed_generation,
    }
}

fn assigned(generation: u64, cluster: &str, role: NodeRole) -> NodeEvent {
    NodeEvent::Assigned {
        generation,
        cluster: token(cluster),
        role,
    }
}

fn labels_set(generation: u64) -> NodeEvent {
    NodeEvent::LabelsSet {
        generation,
        labels: [("rack".to_string(), "r1".to_string())].into(),
    }
}

/// `applied`: what the agent runs; the runtime is taken to have provisioned the same (see the runtime cases).
fn step(events: &[NodeEvent], applied: Option<Membership>) -> NodeStep {
    let state: NodeState = given(events).state().clone();
    let runtime_provisioned = applied.clone().or_else(|| state.status.membership.clone());
    next_node_step(
        &state,
        Some(&image()),
        &NodeReality {
            agent_applied: applied,
            runtime_provisioned,
            lost: false,
        },
        |_| false,
    )
}

#[test]
fn next_steps() {
    use NodeRole::{ControlPlane as Cp, Worker as W};
    let join = |c: &str, r: Option<NodeRole>| NodeStep::Join {
        cluster: token(c),
        role: r,
    };
    let table: Vec<(&str, Vec<NodeEvent>, Option<Membership>, NodeStep)> = vec![
        ("unregistered: nothing", vec![], None, NodeStep::Idle),
        (
            "new node, hub silent: join the site image's cluster",
            vec![registered()],
            None,
            join("main", None),
        ),
        (
            "assigned by the hub: join as asked",
            vec![registered(), assigned(1, "c1", W)],
            None,
            join("c1", Some(W)),
        ),
        (
            "joined: provision",
            vec![registered(), joined("main", Cp, 0)],
            None,
            NodeStep::Provision,
        ),
        (
            "provisioning, agent applied it: ready",
            vec![
                registered(),
                joined("main", Cp, 0),
                NodeEvent::Provisioning { observed_generation: 0 },
            ],
            Some(member("main", Cp)),
            NodeStep::Ready,
        ),
        (
            "provisioning, agent not there yet: wait",
            vec![
                registered(),
                joined("main", Cp, 0),
                NodeEvent::Provisioning { observed_generation: 0 },
            ],
            None,
            NodeStep::Idle,
        ),
        (
            "ready and applied: idle",
            vec![
                registered(),
                joined("main", Cp, 0),
                NodeEvent::Ready { observed_generation: 0 },
            ],
            Some(member("main", Cp)),
            NodeStep::Idle,
        ),
        (
            "ready but the agent runs another role (promoted): provision again",
            vec![
                registered(),
                joined("main", W, 0),
                NodeEvent::Ready { observed_generation: 0 },
                NodeEvent::RolePromoted { role: Cp },
            ],
            Some(member("main", W)),
            NodeStep::Provision,
        ),
        (
            "formed offline, then the hub moves it to another cluster: leave first",
            vec![registered(), joined("main", Cp, 0), assigned(1, "c2", W)],
            None,
            NodeStep::Leave { cluster: token("main") },
        ),
        (
            "promoted offline, hub intent acknowledged earlier: local decision stands",
            vec![
                registered(),
                assigned(1, "main", W),
                joined("main", W, 1),
                NodeEvent::RolePromoted { role: Cp },
            ],
            None,
            NodeStep::Provision,
        ),
        (
            "newer membership intent: hub wins from this generation",
            vec![
                registered(),
                assigned(1, "main", W),
                joined("main", W, 1),
                NodeEvent::RolePromoted { role: Cp },
                NodeEvent::Unassigned { generation: 2 },
                assigned(3, "main", W),
            ],
            None,
            join("main", Some(W)),
        ),
        (
            "defect 1: labels never move a site-image node out of its cluster",
            vec![
                registered(),
                joined("main", Cp, 0),
                NodeEvent::Ready { observed_generation: 0 },
                labels_set(1),
            ],
            Some(member("main", Cp)),
            NodeStep::Idle,
        ),
        (
            "defect 1: labels after an assignment change nothing either",
            vec![
                registered(),
                assigned(1, "main", W),
                joined("main", W, 1),
                NodeEvent::Ready { observed_generation: 1 },
                labels_set(2),
            ],
            Some(member("main", W)),
            NodeStep::Idle,
        ),
        (
            "unassigned by the hub: leave",
            vec![
                registered(),
                assigned(1, "main", W),
                joined("main", W, 1),
                NodeEvent::Unassigned { generation: 2 },
            ],
            None,
            NodeStep::Leave { cluster: token("main") },
        ),
        (
            "after leaving on an unassign: stay out of the site image's cluster",
            vec![
                registered(),
                assigned(1, "main", W),
                joined("main", W, 1),
                NodeEvent::Unassigned { generation: 2 },
                NodeEvent::Left { observed_generation: 2 },
            ],
            None,
            NodeStep::Idle,
        ),
        (
            "reset requested: reset, leaving the cluster",
            vec![
                registered(),
                joined("main", W, 0),
                NodeEvent::ResetRequested { generation: 1 },
            ],
            None,
            NodeStep::Reset {
                cluster: Some(token("main")),
            },
        ),
        (
            "reset done: idle in bootstrap",
            vec![
                registered(),
                joined("main", W, 0),
                NodeEvent::ResetRequested { generation: 1 },
                NodeEvent::ResetToBootstrap { observed_generation: 1 },
            ],
            None,
            NodeStep::Idle,
        ),
    ];
    for (case, events, applied, expected) in table {
        assert_eq!(step(&events, applied), expected, "{case}");
    }
}

#[test]
fn without_a_site_image_a_new_node_waits_for_the_hub() {
    let state: NodeState = given(&[registered()]).state().clone();
    assert_eq!(
        next_node_step(&state, None, &NodeReality::default(), |_| false),
        NodeStep::Idle
    );
}

#[test]
fn provisioning_the_runtime_has_not_done_is_done_again() {
    let state: NodeState = given(&[
        registered(),
        joined("main", NodeRole::Worker, 0),
        NodeEvent::Provisioning { observed_generation: 0 },
    ])
    .state()
    .clone();
    let agent_only = NodeReality {
        agent_applied: Some(member("main", NodeRole::Worker)),
        runtime_provisioned: None,
        lost: false,
    };
    assert_eq!(
        next_node_step(&state, Some(&image()), &agent_only, |_| false),
        NodeStep::Provision
    );
    let both = NodeReality {
        runtime_provisioned: Some(member("main", NodeRole::Worker)),
        ..agent_only
    };
    assert_eq!(
        next_node_step(&state, Some(&image()), &both, |_| false),
        NodeStep::Ready
    );
}

#[test]
fn a_ready_node_the_runtime_lost_is_provisioned_again() {
    let state: NodeState = given(&[
        registered(),
        joined("main", NodeRole::Worker, 0),
        NodeEvent::Ready { observed_generation: 0 },
    ])
    .state()
    .clone();
    let lost = NodeReality {
        agent_applied: Some(member("main", NodeRole::Worker)),
        runtime_provisioned: None,
        lost: false,
    };
    assert_eq!(
        next_node_step(&state, Some(&image()), &lost, |_| false),
        NodeStep::Provision
    );
}
