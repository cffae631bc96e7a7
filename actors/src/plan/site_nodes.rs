//! The site's nodes and clusters: liveness transitions, what agents report about their OS, membership (join,
//! leave, reset, promote), provisioning, and each cluster's ready and removed acknowledgements.

use super::site::SiteInputs;
use super::site_command::SiteCommand;
use super::site_observed::ObservedNode;
use crate::cluster::{ClusterCommand, ClusterHealth, ClusterState};
use crate::node::{NodeCommand, NodePhase, NodeState};
use crate::site_reconcile::{next_node_step, NodeReality, NodeStep};
use events::node::NodeRole;
use events::{Hlc, Token};

fn node(node: &Token, command: NodeCommand) -> SiteCommand {
    SiteCommand::Node {
        node: node.clone(),
        command,
    }
}

fn cluster(cluster: &Token, command: ClusterCommand) -> SiteCommand {
    SiteCommand::Cluster {
        cluster: cluster.clone(),
        command,
    }
}

/// Per node: liveness, OS reports, then its membership step.
pub fn plan_nodes(inputs: &SiteInputs<'_>) -> Vec<SiteCommand> {
    let mut out = Vec::new();
    for (id, state) in inputs.fleet.nodes_at(inputs.site) {
        if state.status.inventory.is_none() {
            continue;
        }
        let seen = inputs.observed.node(id);
        liveness(id, state, &seen, inputs, &mut out);
        os_reports(id, state, &seen, &mut out);
        membership(id, state, &seen, inputs, &mut out);
    }
    out
}

/// Silence and return are transitions recorded as events; heartbeats themselves are not history.
fn liveness(id: &Token, state: &NodeState, seen: &ObservedNode, inputs: &SiteInputs<'_>, out: &mut Vec<SiteCommand>) {
    let silent = seen.heard_ms_ago >= inputs.silent_after_ms;
    match (state.status.silent_since, silent) {
        (None, true) => {
            let last_seen = Hlc {
                physical_ms: inputs.now_unix_ms.saturating_sub(seen.heard_ms_ago),
                logical: 0,
            };
            out.push(node(id, NodeCommand::MarkSilent { last_seen }));
        }
        (Some(_), false) => out.push(node(id, NodeCommand::MarkBack)),
        _ => {}
    }
}

/// What the agent says it runs becomes an event when it answers an update in flight, or differs from the log.
fn os_reports(id: &Token, state: &NodeState, seen: &ObservedNode, out: &mut Vec<SiteCommand>) {
    let Some(os) = &seen.os else { return };
    let Some(slot) = os.slot else { return };
    match &state.status.os_updating_to {
        Some(updating) => {
            if let Some(failure) = os.failure.as_ref().filter(|f| &f.attempted == updating) {
                let failure = failure.clone();
                out.push(node(id, NodeCommand::ReportOsRolledBack { failure, slot }));
            } else if os.version.as_ref() == Some(updating) {
                let version = updating.clone();
                out.push(node(id, NodeCommand::ReportOsUpdated { version, slot }));
            }
        }
        None => {
            if let Some(version) = os
                .version
                .as_ref()
                .filter(|v| state.status.os_version.as_ref() != Some(*v))
            {
                let version = version.clone();
                out.push(node(id, NodeCommand::ReportOsUpdated { version, slot }));
            }
        }
    }
}

fn membership(id: &Token, state: &NodeState, seen: &ObservedNode, inputs: &SiteInputs<'_>, out: &mut Vec<SiteCommand>) {
    let (site, fleet) = (inputs.site, inputs.fleet);
    let reality = NodeReality {
        agent_applied: seen.applied.clone(),
        runtime_provisioned: seen.provisioned.as_ref().map(|p| p.membership()),
        // Lost only while the site hears some other node: a controller that hears nobody (it just took over, or
        // its agents cannot reach it) does not empty the clusters.
        lost: seen.heard_ms_ago >= inputs.lost_after_ms
            && inputs
                .observed
                .nodes
                .values()
                .any(|other| other.heard_ms_ago < inputs.silent_after_ms),
    };
    let deleted = |c: &Token| fleet.cluster(site, c).is_some_and(|c| c.spec.deleted);
    let member_role = |c: &Token| fleet.cluster(site, c).and_then(|c| c.status.members.get(id).copied());
    match next_node_step(state, inputs.image, &reality, deleted) {
        NodeStep::Idle => {
            // A promotion the cluster decided is carried over to the node.
            if let Some(m) = &state.status.membership {
                if m.role == NodeRole::Worker && member_role(&m.cluster) == Some(NodeRole::ControlPlane) {
                    out.push(node(id, NodeCommand::Promote));
                }
            }
        }
        NodeStep::Join { cluster: c, role } => match member_role(&c) {
            Some(role) => out.push(node(id, NodeCommand::Join { cluster: c, role })),
            None => {
                let image_profile = inputs.image.filter(|i| i.cluster == c).map(|i| i.profile.clone());
                let known = fleet
                    .cluster(site, &c)
                    .is_some_and(|s| s.spec.profile.is_some() || s.formed());
                // Without an intent or a site image the cluster cannot form yet: wait for the intent.
                if known || image_profile.is_some() {
                    let join = ClusterCommand::Join {
                        node: id.clone(),
                        role,
                        site_image_profile: image_profile,
                    };
                    out.push(cluster(&c, join));
                }
            }
        },
        NodeStep::Leave { cluster: c } => leave(id, Some(c), NodeCommand::Leave, seen, &member_role, out),
        NodeStep::Reset { cluster: c } => {
            // Out of the cluster and off the runtime first; the reset completes (and revokes the node's identity)
            // only once the agent says it wiped its membership for this reset. Until then the node shows resetting.
            let mut steps = Vec::new();
            leave(id, c, NodeCommand::CompleteReset, seen, &member_role, &mut steps);
            let confirmed = seen.reset_done.is_some_and(|done| done >= state.spec.reset_generation);
            out.extend(steps.into_iter().filter(|step| {
                confirmed
                    || !matches!(
                        step,
                        SiteCommand::Node {
                            command: NodeCommand::CompleteReset,
                            ..
                        }
                    )
            }));
        }
        NodeStep::Provision => provision(id, state, inputs, out),
        NodeStep::Ready => out.push(node(id, NodeCommand::ReportReady)),
    }
}

/// Takes a node out: first out of the cluster's members, then off the runtime, then `last` on the node itself.
fn leave(
    id: &Token,
    from: Option<Token>,
    last: NodeCommand,
    seen: &ObservedNode,
    member_role: &dyn Fn(&Token) -> Option<NodeRole>,
    out: &mut Vec<SiteCommand>,
) {
    match from {
        Some(c) if member_role(&c).is_some() => out.push(cluster(&c, ClusterCommand::Leave(id.clone()))),
        _ if seen.provisioned.is_some() => out.push(SiteCommand::Uninstall { node: id.clone() }),
        _ => out.push(node(id, last)),
    }
}

/// Provisions the node for its membership with what its cluster runs (never a profile change still pending).
fn provision(id: &Token, state: &NodeState, inputs: &SiteInputs<'_>, out: &mut Vec<SiteCommand>) {
    let Some(m) = &state.status.membership else { return };
    let profile = inputs
        .fleet
        .cluster(inputs.site, &m.cluster)
        .and_then(|c| c.status.running_profile.clone().or_else(|| c.spec.profile.clone()));
    let Some(profile) = profile else {
        let reason = format!("cluster {} has no profile to install", m.cluster);
        if state.status.failure.as_deref() != Some(reason.as_str()) {
            out.push(node(id, NodeCommand::ReportFailed(reason)));
        }
        return;
    };
    if state.status.phase != NodePhase::Provisioning {
        out.push(node(id, NodeCommand::ReportProvisioning));
    }
    out.push(SiteCommand::Provision {
        node: id.clone(),
        cluster: m.cluster.clone(),
        role: m.role,
        profile,
    });
}

/// Per cluster: confirm a deletion once every member left; report a forming cluster ready once every member is
/// ready, on the profile the runtime installed on them; install a ready cluster's apps when they differ from what
/// the site last reported installed.
pub fn plan_clusters(inputs: &SiteInputs<'_>) -> Vec<SiteCommand> {
    let mut out = Vec::new();
    for (id, state) in inputs.fleet.clusters_at(inputs.site) {
        if state.spec.deleted {
            let acknowledged = state.status.health == ClusterHealth::Removed
                && state.status.observed_generation >= state.spec.generation;
            if state.status.members.is_empty() && !acknowledged {
                out.push(cluster(id, ClusterCommand::ConfirmRemoved));
            }
            continue;
        }
        if state.status.health == ClusterHealth::Forming {
            if let Some(profile) = installed_everywhere(id, state, inputs) {
                out.push(cluster(id, ClusterCommand::ReportReady { profile }));
            }
        }
        // Apps go on a ready cluster (what the site holds of its intent, also while the hub is away).
        if state.status.health == ClusterHealth::Ready && state.spec.apps != state.status.apps {
            out.push(SiteCommand::InstallApps {
                cluster: id.clone(),
                members: state.status.members.iter().map(|(n, r)| (n.clone(), *r)).collect(),
                apps: state.spec.apps.clone(),
            });
        }
    }
    out
}

/// The one profile every member runs, if every member is ready in this cluster and the runtime installed the same
/// profile on all of them.
fn installed_everywhere(
    id: &Token,
    state: &ClusterState,
    inputs: &SiteInputs<'_>,
) -> Option<events::cluster::ProfileRef> {
    let mut profile = None;
    if state.status.members.is_empty() {
        return None;
    }
    for member in state.status.members.keys() {
        let node = inputs.fleet.node(inputs.site, member)?;
        let in_this = node.status.membership.as_ref().is_some_and(|m| &m.cluster == id);
        if !in_this || node.status.phase != NodePhase::Ready {
            return None;
        }
        let installed = inputs.observed.node(member).provisioned?;
        if installed.cluster != *id {
            return None;
        }
        match &profile {
            None => profile = Some(installed.profile),
            Some(p) if *p == installed.profile => {}
            Some(_) => return None,
        }
    }
    profile
}
