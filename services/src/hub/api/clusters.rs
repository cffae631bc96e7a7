//! `ef.api.v1.clusters.*`: create at a site from `profile@version` + overrides, list, get, delete, upgrade, label.

use super::context::Call;
use super::nodes::lifecycle_at;
use crate::api_types::requests::{ClusterCreate, ClusterFilter, ClusterRef, ClusterUpgrade, Label};
use crate::api_types::views::ClusterView;
use crate::api_types::ApiError;
use actors::cluster::{ClusterCommand, ClusterHealth, ClusterState};
use events::cluster::ProfileRef;
use events::{AggregateKind, AggregateRef};

/// Refuses a profile version the hub has not published.
fn require_profile(context: &Call<'_>, profile: &ProfileRef) -> Result<(), ApiError> {
    if context.read(|fleet| fleet.profile_layers(profile).is_some()) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "profile {profile} does not exist: apply it first"
        )))
    }
}

fn exists(state: &ClusterState) -> bool {
    state.spec.profile.is_some() || state.formed()
}

fn view(context: &Call<'_>, aggregate: &AggregateRef, state: &ClusterState) -> ClusterView {
    ClusterView::new(aggregate.scope.as_str(), aggregate.id.as_str(), state, |node| {
        lifecycle_at(context, &aggregate.scope, node)
    })
}

/// The cluster's current state from the projection.
fn state(context: &Call<'_>, aggregate: &AggregateRef) -> Option<ClusterState> {
    let site = aggregate.scope.site()?;
    context.read(|fleet| fleet.cluster(site, &aggregate.id).cloned())
}

/// The cluster named by `id` and `site` whose state passes `exists_as`.
fn resolve_with(
    context: &Call<'_>,
    request: &ClusterRef,
    exists_as: fn(&ClusterState) -> bool,
) -> Result<(AggregateRef, ClusterState), ApiError> {
    let aggregate = context.resolve(AggregateKind::Cluster, &request.id, request.site.as_ref())?;
    let state = state(context, &aggregate)
        .filter(exists_as)
        .ok_or_else(|| ApiError::not_found(format!("cluster {aggregate} does not exist")))?;
    Ok((aggregate, state))
}

/// The existing (not removed) cluster named by `id` and `site`.
fn resolve(context: &Call<'_>, request: &ClusterRef) -> Result<(AggregateRef, ClusterState), ApiError> {
    resolve_with(context, request, exists)
}

/// `clusters.create`: the site must be part of the fleet and the profile version must exist.
pub async fn create(context: &Call<'_>, request: ClusterCreate) -> Result<ClusterView, ApiError> {
    super::sites::known(context, &request.site)?;
    require_profile(context, &request.profile)?;
    actors::labels::validate_labels(&request.labels).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let aggregate = AggregateRef::cluster(&request.site, &request.id);
    let create = ClusterCommand::Create {
        profile: request.profile,
        overrides: request.overrides,
    };
    let mut done = context.write(&context.hub.clusters, aggregate.clone(), create).await?;
    if !request.labels.is_empty() {
        let labels = ClusterCommand::SetLabels(request.labels);
        done = context.write(&context.hub.clusters, aggregate.clone(), labels).await?;
    }
    Ok(view(context, &aggregate, &done.state))
}

/// `clusters.list`: clusters the site has removed after a deletion are left out unless asked for.
pub fn list(context: &Call<'_>, filter: ClusterFilter) -> Vec<ClusterView> {
    let clusters: Vec<(AggregateRef, ClusterState)> = context.read(|fleet| {
        fleet
            .clusters()
            .filter(|(site, _, c)| filter.site.as_ref().is_none_or(|s| s == *site) && exists_or_removed(c))
            .filter(|(_, _, c)| filter.removed || c.status.health != ClusterHealth::Removed)
            .map(|(site, id, c)| (AggregateRef::cluster(site, id), c.clone()))
            .collect()
    });
    clusters.iter().map(|(a, c)| view(context, a, c)).collect()
}

fn exists_or_removed(state: &ClusterState) -> bool {
    exists(state) || state.status.health == ClusterHealth::Removed
}

/// `clusters.get`: removed clusters too (their history is there).
pub fn get(context: &Call<'_>, request: ClusterRef) -> Result<ClusterView, ApiError> {
    let (aggregate, state) = resolve_with(context, &request, exists_or_removed)?;
    Ok(view(context, &aggregate, &state))
}

/// `clusters.delete`: one intent. The site takes the members out and confirms the removal; the hub planner
/// unassigns nodes still assigned to the cluster.
pub async fn delete(context: &Call<'_>, request: ClusterRef) -> Result<ClusterView, ApiError> {
    let (aggregate, _) = resolve(context, &request)?;
    let done = context
        .write(&context.hub.clusters, aggregate.clone(), ClusterCommand::Delete)
        .await?;
    Ok(view(context, &aggregate, &done.state))
}

/// `clusters.upgrade`: the profile version must exist; the site updates the cluster node by node.
pub async fn upgrade(context: &Call<'_>, request: ClusterUpgrade) -> Result<ClusterView, ApiError> {
    let cluster = ClusterRef {
        id: request.id,
        site: request.site,
    };
    let (aggregate, _) = resolve(context, &cluster)?;
    require_profile(context, &request.profile)?;
    let change = ClusterCommand::ChangeProfile(request.profile);
    let done = context.write(&context.hub.clusters, aggregate.clone(), change).await?;
    Ok(view(context, &aggregate, &done.state))
}

/// `clusters.label`.
pub async fn label(context: &Call<'_>, request: Label) -> Result<ClusterView, ApiError> {
    let cluster = ClusterRef {
        id: request.id,
        site: request.site,
    };
    let (aggregate, _) = resolve(context, &cluster)?;
    let labels = ClusterCommand::SetLabels(request.labels);
    let done = context.write(&context.hub.clusters, aggregate.clone(), labels).await?;
    Ok(view(context, &aggregate, &done.state))
}
