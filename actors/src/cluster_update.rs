//! How a site updates one cluster's OS, node by node — a pure function over what each member runs
//! (DESIGN §1.4: bare metal has no spare node, so nodes update one at a time; control-plane nodes strictly one at
//! a time to keep quorum; stop at the first failure and roll the already-updated nodes back).

use events::node::{NodeRole, OsUpdateFailure};
use events::Token;

/// What one member runs, as the site's log says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberOs {
    /// The node.
    pub node: Token,
    /// Its role.
    pub role: NodeRole,
    /// OS version it runs.
    pub version: Option<String>,
    /// Version it is updating to, if an update is in progress.
    pub updating_to: Option<String>,
    /// Last failed attempt.
    pub last_failure: Option<OsUpdateFailure>,
}

/// The next step of a cluster OS update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateStep {
    /// Every member runs the target version.
    Done,
    /// Updates in flight; nothing more may start now.
    Wait,
    /// Start updating these nodes to the target.
    Update(Vec<Token>),
    /// A member failed: move these (already updated) nodes back to the previous version.
    RollBack {
        /// Nodes to roll back.
        nodes: Vec<Token>,
        /// The failure that stopped the update.
        reason: String,
    },
    /// The update failed and every member runs the previous version again.
    Failed {
        /// The failure that stopped the update.
        reason: String,
    },
}

/// The member's failure to reach `target`, as `node: reason`.
fn failed_on(member: &MemberOs, target: &str) -> Option<String> {
    let failure = member.last_failure.as_ref().filter(|f| f.attempted == target)?;
    Some(format!("{}: {}", member.node, failure.reason))
}

/// Decides the next step of updating `members` to `target` (from `previous`), at most `max_unavailable` nodes at
/// once (and one control-plane node at a time).
pub fn next_update_step(
    members: &[MemberOs],
    target: &str,
    previous: Option<&str>,
    max_unavailable: usize,
) -> UpdateStep {
    let on = |m: &MemberOs, version: &str| m.version.as_deref() == Some(version);
    if let Some(reason) = members.iter().find_map(|m| failed_on(m, target)) {
        let in_flight = members.iter().any(|m| m.updating_to.is_some());
        let back: Vec<Token> = members
            .iter()
            .filter(|m| on(m, target) && m.updating_to.is_none() && previous.is_some_and(|p| p != target))
            .map(|m| m.node.clone())
            .collect();
        return match (back.is_empty(), in_flight) {
            (false, _) => UpdateStep::RollBack { nodes: back, reason },
            (true, true) => UpdateStep::Wait,
            (true, false) => UpdateStep::Failed { reason },
        };
    }
    let in_flight: Vec<&MemberOs> = members
        .iter()
        .filter(|m| m.updating_to.as_deref() == Some(target))
        .collect();
    let pending: Vec<&MemberOs> = members
        .iter()
        .filter(|m| !on(m, target) && m.updating_to.is_none())
        .collect();
    if pending.is_empty() && in_flight.is_empty() {
        return UpdateStep::Done;
    }
    let budget = max_unavailable.max(1).saturating_sub(in_flight.len());
    if budget == 0 {
        return UpdateStep::Wait;
    }
    // Control plane first, strictly one at a time; workers after every control-plane node is done.
    let control_plane_busy = in_flight.iter().any(|m| m.role == NodeRole::ControlPlane);
    let pending_control_plane: Vec<&&MemberOs> = pending.iter().filter(|m| m.role == NodeRole::ControlPlane).collect();
    if let Some(next) = pending_control_plane.first() {
        return if control_plane_busy {
            UpdateStep::Wait
        } else {
            UpdateStep::Update(vec![next.node.clone()])
        };
    }
    if control_plane_busy {
        return UpdateStep::Wait;
    }
    let next: Vec<Token> = pending.iter().take(budget).map(|m| m.node.clone()).collect();
    UpdateStep::Update(next)
}
