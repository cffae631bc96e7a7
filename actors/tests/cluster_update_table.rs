//! The site's cluster OS update, as a table: given what each member runs, then the next step.

use actors::cluster_update::{next_update_step, MemberOs, UpdateStep};
use events::node::{NodeRole, OsUpdateFailure};
use testkit::token;

fn member(
    node: &str,
    role: NodeRole,
    version: &str,
    updating_to: Option<&str>,
    failure: Option<(&str, &str)>,
) -> MemberOs {
    MemberOs {
        node: token(node),
        role,
        version: Some(version.into()),
        updating_to: updating_to.map(Into::into),
        last_failure: failure.map(|(attempted, reason)| OsUpdateFailure {
            attempted: attempted.into(),
            reason: reason.into(),
        }),
    }
}

#[test]
fn next_steps() {
    use NodeRole::{ControlPlane as Cp, Worker as W};
    let nodes = |names: &[&str]| names.iter().map(|n| token(n)).collect::<Vec<_>>();
    let table: Vec<(&str, Vec<MemberOs>, usize, UpdateStep)> = vec![
        (
            "control plane first",
            vec![member("w1", W, "v1", None, None), member("c1", Cp, "v1", None, None)],
            1,
            UpdateStep::Update(nodes(&["c1"])),
        ),
        (
            "one at a time by default",
            vec![
                member("c1", Cp, "v1", Some("v2"), None),
                member("w1", W, "v1", None, None),
            ],
            1,
            UpdateStep::Wait,
        ),
        (
            "never two control-plane nodes at once, whatever max_unavailable says",
            vec![
                member("c1", Cp, "v1", Some("v2"), None),
                member("c2", Cp, "v1", None, None),
            ],
            3,
            UpdateStep::Wait,
        ),
        (
            "workers after the control plane, up to max_unavailable",
            vec![
                member("c1", Cp, "v2", None, None),
                member("w1", W, "v1", None, None),
                member("w2", W, "v1", None, None),
                member("w3", W, "v1", None, None),
            ],
            2,
            UpdateStep::Update(nodes(&["w1", "w2"])),
        ),
        (
            "all on target: done",
            vec![member("c1", Cp, "v2", None, None), member("w1", W, "v2", None, None)],
            1,
            UpdateStep::Done,
        ),
        (
            "a failure stops the update and rolls the updated nodes back",
            vec![
                member("c1", Cp, "v2", None, None),
                member("w1", W, "v1", None, Some(("v2", "health check failed"))),
            ],
            1,
            UpdateStep::RollBack {
                nodes: nodes(&["c1"]),
                reason: "w1: health check failed".into(),
            },
        ),
        (
            "while a rollback runs: wait",
            vec![
                member("c1", Cp, "v2", Some("v1"), None),
                member("w1", W, "v1", None, Some(("v2", "boom"))),
            ],
            1,
            UpdateStep::Wait,
        ),
        (
            "everyone back on the previous version: failed",
            vec![
                member("c1", Cp, "v1", None, None),
                member("w1", W, "v1", None, Some(("v2", "boom"))),
            ],
            1,
            UpdateStep::Failed {
                reason: "w1: boom".into(),
            },
        ),
        (
            "an old failure for another version does not stop this update",
            vec![member("c1", Cp, "v1", None, Some(("v0", "old")))],
            1,
            UpdateStep::Update(nodes(&["c1"])),
        ),
    ];
    for (case, members, max_unavailable, expected) in table {
        assert_eq!(
            next_update_step(&members, "v2", Some("v1"), max_unavailable),
            expected,
            "{case}"
        );
    }
}
