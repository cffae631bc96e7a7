//! `ef.api.v1.clusters.*`: create at a site from `profile@version` + overrides, list, get, delete, label.

use super::error::ApiError;
use super::requests::{ClusterCreate, ClusterFilter, ClusterRef, ClusterUpgrade, Label};
use super::views::{lifecycle_name, ClusterView};
use super::ApiContext;
use crate::registries::{dispatch, query};
use actors::cluster::{ClusterCommand, ClusterState};
use actors::profile::ProfileState;
use actors::AnyAggregate;
use events::cluster::ProfileRef;
use events::{AggregateKind, AggregateRef, Scope, Token};
use std::collections::BTreeMap;

/// Parses `NAME@VERSION`.
pub fn parse_profile(profile: &str) -> Result<ProfileRef, ApiError> {
    let (name, version) = profile
        .split_once('@')
        .ok_or_else(|| ApiError::bad_request(format!("profile {profile:?} must be NAME@VERSION")))?;
    let version = version
        .parse()
        .map_err(|_| ApiError::bad_request(format!("profile version {version:?} must be a positive number")))?;
    Ok(ProfileRef {
        name: Token::new(name)?,
        version,
    })
}

/// Refuses a profile version that has not been published.
async fn require_profile(context: &ApiContext, profile: &ProfileRef) -> Result<(), ApiError> {
    let state: ProfileState = query(&context.hub.profiles, AggregateRef::profile(&profile.name))
        .await
        .map_err(|e| ApiError {
            code: 503,
            message: format!("{e:#}"),
        })?;
    if !state.versions.contains_key(&profile.version) {
        return Err(ApiError::not_found(format!(
            "profile {profile} does not exist: apply it first"
        )));
    }
    Ok(())
}

/// Finds the cluster: at `site` if given, else the one site that has a cluster with this id.
async fn resolve(context: &ApiContext, id: &str, site: Option<&str>) -> Result<AggregateRef, ApiError> {
    let id = Token::new(id)?;
    if let Some(site) = site {
        return Ok(AggregateRef::cluster(&Token::new(site)?, &id));
    }
    let matches = context.find(AggregateKind::Cluster, &id).await;
    match matches.as_slice() {
        [] => Err(ApiError::not_found(format!("cluster {id} does not exist at any site"))),
        [one] => Ok(one.clone()),
        many => Err(ApiError::conflict(format!(
            "cluster id {id} exists at {} sites; give the site",
            many.len()
        ))),
    }
}

async fn read(context: &ApiContext, aggregate: &AggregateRef) -> Result<ClusterState, ApiError> {
    query(&context.hub.clusters, aggregate.clone())
        .await
        .map_err(|e| ApiError {
            code: 503,
            message: format!("{e:#}"),
        })
}

async fn view(context: &ApiContext, aggregate: &AggregateRef, state: &ClusterState) -> ClusterView {
    let site = aggregate.scope.to_string();
    let member_states: BTreeMap<String, String> = context
        .view
        .with(|fleet| {
            state
                .status
                .members
                .keys()
                .map(|node| {
                    let node_ref = AggregateRef {
                        kind: AggregateKind::Node,
                        scope: aggregate.scope.clone(),
                        id: node.clone(),
                    };
                    let lifecycle = match fleet.get(&node_ref) {
                        Some(AnyAggregate::Node(n)) => lifecycle_name(n),
                        _ => "unknown".into(),
                    };
                    (node.to_string(), lifecycle)
                })
                .collect()
        })
        .await;
    ClusterView::new(&site, aggregate.id.as_str(), state, |node| {
        member_states.get(node).cloned().unwrap_or_else(|| "unknown".into())
    })
}

/// `clusters.create`: the site must have connected and the profile version must exist.
pub async fn create(context: &ApiContext, request: ClusterCreate) -> Result<ClusterView, ApiError> {
    let site = Token::new(request.site)?;
    let id = Token::new(request.id)?;
    let profile = parse_profile(&request.profile)?;
    if !context.directory.sites().contains(&site) {
        return Err(ApiError::not_found(format!(
            "site {site} has never connected to this hub"
        )));
    }
    require_profile(context, &profile).await?;
    actors::labels::validate_labels(&request.labels).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let aggregate = AggregateRef::cluster(&site, &id);
    let create = ClusterCommand::Create {
        profile,
        overrides: request.overrides,
    };
    let mut done = dispatch(&context.hub.clusters, aggregate.clone(), create, "operator").await?;
    if !request.labels.is_empty() {
        done = dispatch(
            &context.hub.clusters,
            aggregate.clone(),
            ClusterCommand::SetLabels(request.labels),
            "operator",
        )
        .await?;
    }
    Ok(view(context, &aggregate, &done.state).await)
}

/// `clusters.list`.
pub async fn list(context: &ApiContext, filter: ClusterFilter) -> Result<Vec<ClusterView>, ApiError> {
    let site = filter.site.as_deref().map(Token::new).transpose()?;
    context.view.catch_up(&context.directory, &context.js).await;
    let clusters: Vec<(AggregateRef, ClusterState)> = context
        .view
        .with(|fleet| {
            fleet
                .aggregates
                .iter()
                .filter(|(a, _)| site.as_ref().is_none_or(|s| a.scope == Scope::Site(s.clone())))
                .filter_map(|(a, entry)| match &entry.state {
                    AnyAggregate::Cluster(c) => Some((a.clone(), c.clone())),
                    _ => None,
                })
                .collect()
        })
        .await;
    let mut views = Vec::with_capacity(clusters.len());
    for (aggregate, state) in &clusters {
        views.push(view(context, aggregate, state).await);
    }
    Ok(views)
}

/// `clusters.get`.
pub async fn get(context: &ApiContext, request: ClusterRef) -> Result<ClusterView, ApiError> {
    let aggregate = resolve(context, &request.id, request.site.as_deref()).await?;
    let state = read(context, &aggregate).await?;
    if state.spec.profile.is_none() && !state.formed() {
        return Err(ApiError::not_found(format!("cluster {aggregate} does not exist")));
    }
    Ok(view(context, &aggregate, &state).await)
}

/// `clusters.delete`.
pub async fn delete(context: &ApiContext, request: ClusterRef) -> Result<ClusterView, ApiError> {
    let aggregate = resolve(context, &request.id, request.site.as_deref()).await?;
    // Unassign the nodes assigned to it first, so the site takes them out before it removes the cluster.
    context.view.catch_up(&context.directory, &context.js).await;
    let assigned: Vec<AggregateRef> = context
        .view
        .with(|fleet| {
            fleet
                .aggregates
                .iter()
                .filter(|(a, _)| a.kind == AggregateKind::Node && a.scope == aggregate.scope)
                .filter(|(_, e)| {
                    matches!(&e.state, AnyAggregate::Node(n)
                        if n.spec.assignment.as_ref().is_some_and(|m| m.cluster == aggregate.id))
                })
                .map(|(a, _)| a.clone())
                .collect()
        })
        .await;
    for node in assigned {
        dispatch(
            &context.hub.nodes,
            node,
            actors::node::NodeCommand::Unassign,
            "operator",
        )
        .await?;
    }
    let done = dispatch(
        &context.hub.clusters,
        aggregate.clone(),
        ClusterCommand::Delete,
        "operator",
    )
    .await?;
    Ok(view(context, &aggregate, &done.state).await)
}
/// `clusters.upgrade`: the profile version must exist; the site updates the cluster node by node.
pub async fn upgrade(context: &ApiContext, request: ClusterUpgrade) -> Result<ClusterView, ApiError> {
    let aggregate = resolve(context, &request.id, request.site.as_deref()).await?;
    let profile = parse_profile(&request.profile)?;
    require_profile(context, &profile).await?;
    let done = dispatch(
        &context.hub.clusters,
        aggregate.clone(),
        ClusterCommand::ChangeProfile(profile),
        "operator",
    )
    .await?;
    Ok(view(context, &aggregate, &done.state).await)
}

/// `clusters.label`.
pub async fn label(context: &ApiContext, request: Label) -> Result<ClusterView, ApiError> {
    let aggregate = resolve(context, &request.id, request.site.as_deref()).await?;
    let done = dispatch(
        &context.hub.clusters,
        aggregate.clone(),
        ClusterCommand::SetLabels(request.labels),
        "operator",
    )
    .await?;
    Ok(view(context, &aggregate, &done.state).await)
}
