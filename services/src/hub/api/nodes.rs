//! `ef.api.v1.nodes.*`: list, get, assign, unassign, reset, label.

use super::error::ApiError;
use super::requests::{Assign, Label, NodeFilter, NodeRef};
use super::views::{lifecycle_name, NodeView};
use super::ApiContext;
use crate::registries::{dispatch, query};
use actors::cluster::ClusterState;
use actors::node::{NodeCommand, NodeState};
use actors::AnyAggregate;
use events::node::NodeRole;
use events::{AggregateKind, AggregateRef, Scope, Token};

/// Parses `control-plane` / `worker`.
pub fn parse_role(role: &str) -> Result<NodeRole, ApiError> {
    match role {
        "control-plane" => Ok(NodeRole::ControlPlane),
        "worker" => Ok(NodeRole::Worker),
        other => Err(ApiError::bad_request(format!(
            "role {other:?} must be control-plane or worker"
        ))),
    }
}

/// Milliseconds since the node's site last heard it.
fn heartbeat_age(context: &ApiContext, site: &Token, node: &str) -> Option<u64> {
    let link = context.directory.link(site)?;
    let at_beacon = link.node_heartbeat_ms_ago.get(node)?;
    Some(at_beacon + link.last_seen.map_or(0, |t| t.elapsed().as_millis() as u64))
}

/// Finds the node: at `site` if given, else the one site where the id is registered.
pub async fn resolve(context: &ApiContext, id: &str, site: Option<&str>) -> Result<AggregateRef, ApiError> {
    let id = Token::new(id)?;
    if let Some(site) = site {
        let aggregate = AggregateRef::node(&Token::new(site)?, &id);
        let state = read(context, &aggregate).await?;
        if state.status.inventory.is_none() {
            return Err(ApiError::not_found(format!(
                "node {id} is not registered at site {site}"
            )));
        }
        return Ok(aggregate);
    }
    let matches = context.find(AggregateKind::Node, &id).await;
    match matches.as_slice() {
        [] => Err(ApiError::not_found(format!("node {id} is not registered at any site"))),
        [one] => Ok(one.clone()),
        many => Err(ApiError::conflict(format!(
            "node id {id} exists at {} sites ({}); give the site",
            many.len(),
            many.iter().map(|a| a.scope.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

async fn read(context: &ApiContext, aggregate: &AggregateRef) -> Result<NodeState, ApiError> {
    query(&context.hub.nodes, aggregate.clone())
        .await
        .map_err(|e| ApiError {
            code: 503,
            message: format!("{e:#}"),
        })
}

fn view(context: &ApiContext, aggregate: &AggregateRef, state: &NodeState) -> NodeView {
    let site = aggregate.scope.site().cloned().unwrap_or_else(|| aggregate.id.clone());
    NodeView::new(
        site.as_str(),
        aggregate.id.as_str(),
        state,
        heartbeat_age(context, &site, aggregate.id.as_str()),
    )
}

/// `nodes.list`.
pub async fn list(context: &ApiContext, filter: NodeFilter) -> Result<Vec<NodeView>, ApiError> {
    let site = filter.site.as_deref().map(Token::new).transpose()?;
    let state = filter.state.as_ref().map(|s| s.to_lowercase());
    context.view.catch_up(&context.directory, &context.js).await;
    let nodes: Vec<(AggregateRef, NodeState)> = context
        .view
        .with(|fleet| {
            fleet
                .aggregates
                .iter()
                .filter_map(|(aggregate, entry)| match &entry.state {
                    AnyAggregate::Node(node) if node.status.inventory.is_some() => {
                        Some((aggregate.clone(), node.clone()))
                    }
                    _ => None,
                })
                .collect()
        })
        .await;
    Ok(nodes
        .iter()
        .filter(|(a, _)| site.as_ref().is_none_or(|s| a.scope == Scope::Site(s.clone())))
        .filter(|(_, n)| state.as_ref().is_none_or(|s| *s == lifecycle_name(n)))
        .filter(|(_, n)| filter.labels.iter().all(|(k, v)| n.spec.labels.get(k) == Some(v)))
        .map(|(a, n)| view(context, a, n))
        .collect())
}

/// `nodes.get`.
pub async fn get(context: &ApiContext, request: NodeRef) -> Result<NodeView, ApiError> {
    let aggregate = resolve(context, &request.id, request.site.as_deref()).await?;
    let state = read(context, &aggregate).await?;
    Ok(view(context, &aggregate, &state))
}

async fn command(context: &ApiContext, aggregate: AggregateRef, command: NodeCommand) -> Result<NodeView, ApiError> {
    let done = dispatch(&context.hub.nodes, aggregate.clone(), command, "operator").await?;
    Ok(view(context, &aggregate, &done.state))
}

/// `nodes.assign`: the cluster must exist at the node's site.
pub async fn assign(context: &ApiContext, request: Assign) -> Result<NodeView, ApiError> {
    let role = parse_role(&request.role)?;
    let cluster = Token::new(request.cluster.clone())?;
    let node = resolve(context, &request.id, request.site.as_deref()).await?;
    let site = node
        .scope
        .site()
        .cloned()
        .ok_or_else(|| ApiError::internal("node without a site"))?;
    let cluster_state: ClusterState = query(&context.hub.clusters, AggregateRef::cluster(&site, &cluster))
        .await
        .map_err(|e| ApiError {
            code: 503,
            message: format!("{e:#}"),
        })?;
    if cluster_state.spec.profile.is_none() || cluster_state.spec.deleted {
        return Err(ApiError::not_found(format!(
            "cluster {cluster} does not exist at site {site}: create it first (edgefleet clusters create)"
        )));
    }
    command(context, node, NodeCommand::Assign { cluster, role }).await
}

/// `nodes.unassign`.
pub async fn unassign(context: &ApiContext, request: NodeRef) -> Result<NodeView, ApiError> {
    let node = resolve(context, &request.id, request.site.as_deref()).await?;
    command(context, node, NodeCommand::Unassign).await
}

/// `nodes.reset`: back to the bootstrap partition.
pub async fn reset(context: &ApiContext, request: NodeRef) -> Result<NodeView, ApiError> {
    let node = resolve(context, &request.id, request.site.as_deref()).await?;
    command(context, node, NodeCommand::Reset).await
}

/// `nodes.label`.
pub async fn label(context: &ApiContext, request: Label) -> Result<NodeView, ApiError> {
    let node = resolve(context, &request.id, request.site.as_deref()).await?;
    command(context, node, NodeCommand::SetLabels(request.labels)).await
}
