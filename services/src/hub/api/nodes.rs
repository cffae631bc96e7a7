//! `ef.api.v1.nodes.*`: list, get, assign, unassign, reset, label. Reads and checks come from the projection; an
//! assignment costs one log read (the actor's catch-up) before its append.

use super::context::Call;
use crate::api_types::requests::{Assign, Label, NodeFilter, NodeRef, NODE_PAGE};
use crate::api_types::views::NodeView;
use crate::api_types::ApiError;
use actors::node::{NodeCommand, NodeState};
use events::{AggregateKind, AggregateRef, Scope, Token};

fn site_of(aggregate: &AggregateRef) -> Token {
    aggregate.scope.site().cloned().unwrap_or_else(|| aggregate.id.clone())
}

fn view(context: &Call<'_>, aggregate: &AggregateRef, state: &NodeState) -> NodeView {
    let site = site_of(aggregate);
    let heard = context
        .directory
        .link(&site)
        .and_then(|link| link.heartbeat_age_ms(aggregate.id.as_str()));
    NodeView::new(site.as_str(), aggregate.id.as_str(), state, heard)
}

/// The registered node `id` (at `site` if given).
fn resolve(context: &Call<'_>, id: &Token, site: Option<&Token>) -> Result<(AggregateRef, NodeState), ApiError> {
    let aggregate = context.resolve(AggregateKind::Node, id, site)?;
    let state = context
        .read(|fleet| fleet.node(&site_of(&aggregate), id).cloned())
        .filter(|n| n.status.inventory.is_some())
        .ok_or_else(|| ApiError::not_found(format!("node {id} has not registered at site {}", aggregate.scope)))?;
    Ok((aggregate, state))
}

/// `nodes.list`: one page of at most [`NODE_PAGE`] nodes in (site, node) order, after `filter.after`.
pub fn list(context: &Call<'_>, filter: NodeFilter) -> Vec<NodeView> {
    let limit = filter.limit.unwrap_or(NODE_PAGE).clamp(1, NODE_PAGE);
    let after = filter.after.as_ref().map(|p| (&p.site, &p.id));
    let nodes: Vec<(AggregateRef, NodeState)> = context.read(|fleet| {
        fleet
            .nodes_from(after, filter.site.as_ref())
            .filter(|(_, _, n)| {
                n.status.inventory.is_some()
                    && filter.state.is_none_or(|s| s == n.lifecycle())
                    && filter.labels.iter().all(|(k, v)| n.spec.labels.get(k) == Some(v))
            })
            .take(limit)
            .map(|(site, id, n)| (AggregateRef::node(site, id), n.clone()))
            .collect()
    });
    nodes.iter().map(|(a, n)| view(context, a, n)).collect()
}

/// `nodes.get`.
pub fn get(context: &Call<'_>, request: NodeRef) -> Result<NodeView, ApiError> {
    let (aggregate, state) = resolve(context, &request.id, request.site.as_ref())?;
    Ok(view(context, &aggregate, &state))
}

async fn command(context: &Call<'_>, aggregate: AggregateRef, command: NodeCommand) -> Result<NodeView, ApiError> {
    let done = context.write(&context.hub.nodes, aggregate.clone(), command).await?;
    Ok(view(context, &aggregate, &done.state))
}

/// `nodes.assign`: the cluster must exist at the node's site (checked in the projection; the site checks again
/// when it acts, and a node assigned to a cluster deleted meanwhile is unassigned by the hub planner).
pub async fn assign(context: &Call<'_>, request: Assign) -> Result<NodeView, ApiError> {
    let (node, _) = resolve(context, &request.id, request.site.as_ref())?;
    let site = site_of(&node);
    let exists = context.read(|fleet| {
        fleet
            .cluster(&site, &request.cluster)
            .is_some_and(|c| c.spec.profile.is_some() && !c.spec.deleted)
    });
    if !exists {
        return Err(ApiError::not_found(format!(
            "cluster {} does not exist at site {site}: create it first (edgefleet clusters create)",
            request.cluster
        )));
    }
    let assign = NodeCommand::Assign {
        cluster: request.cluster,
        role: request.role,
    };
    command(context, node, assign).await
}

/// `nodes.unassign`.
pub async fn unassign(context: &Call<'_>, request: NodeRef) -> Result<NodeView, ApiError> {
    let (node, _) = resolve(context, &request.id, request.site.as_ref())?;
    command(context, node, NodeCommand::Unassign).await
}

/// `nodes.reset`: back to the bootstrap partition.
pub async fn reset(context: &Call<'_>, request: NodeRef) -> Result<NodeView, ApiError> {
    let (node, _) = resolve(context, &request.id, request.site.as_ref())?;
    command(context, node, NodeCommand::Reset).await
}

/// `nodes.label`: labels are the hub's metadata; they never move the node.
pub async fn label(context: &Call<'_>, request: Label) -> Result<NodeView, ApiError> {
    let (node, _) = resolve(context, &request.id, request.site.as_ref())?;
    command(context, node, NodeCommand::SetLabels(request.labels)).await
}

/// Nodes of `scope` (for cluster views).
pub fn lifecycle_at(context: &Call<'_>, scope: &Scope, node: &str) -> Option<actors::node::NodeLifecycle> {
    let site = scope.site()?;
    let node = Token::new(node).ok()?;
    context.read(|fleet| fleet.node(site, &node).map(NodeState::lifecycle))
}
