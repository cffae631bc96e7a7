//! `ef.api.v1.rollouts.*`: create (targets = clusters whose labels, or their site's labels, match the selector),
//! list, get (with per-cluster progress folded from every site's reports), pause, resume, abort.

use super::context::Call;
use crate::api_types::requests::{Empty, RolloutCreate, RolloutRef};
use crate::api_types::views::RolloutView;
use crate::api_types::ApiError;
use actors::rollout::{RolloutCommand, RolloutState};
use events::rollout::ClusterTarget;
use events::{AggregateKind, AggregateRef, Scope, Token};

fn rollout_ref(id: &Token) -> AggregateRef {
    AggregateRef {
        kind: AggregateKind::Rollout,
        scope: Scope::All,
        id: id.clone(),
    }
}

fn read(context: &Call<'_>, id: &Token) -> Result<RolloutState, ApiError> {
    context
        .read(|fleet| fleet.rollout(id))
        .filter(RolloutState::created)
        .ok_or_else(|| ApiError::not_found(format!("rollout {id} does not exist")))
}

/// `rollouts.create`.
pub async fn create(context: &Call<'_>, request: RolloutCreate) -> Result<RolloutView, ApiError> {
    let selector = request.selector.clone();
    let targets: Vec<ClusterTarget> = context.read(|fleet| {
        fleet
            .clusters()
            .filter(|(_, _, c)| c.spec.profile.is_some() && !c.spec.deleted)
            .filter(|(site, _, c)| {
                let mut labels = fleet.site(site).map(|s| s.spec.labels.clone()).unwrap_or_default();
                labels.extend(c.spec.labels.clone());
                selector.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
            .map(|(site, id, _)| ClusterTarget {
                site: site.clone(),
                cluster: id.clone(),
            })
            .collect()
    });
    if targets.is_empty() {
        return Err(ApiError::not_found(format!(
            "no cluster matches the selector {:?}",
            request.selector
        )));
    }
    let create = RolloutCommand::Create {
        profile: request.profile,
        selector: request.selector,
        waves: request.waves,
        failure_budget: request.failure_budget,
        window: request.window,
        skip_after_s: request.skip_after_s,
        targets,
    };
    context
        .write(&context.hub.rollouts, rollout_ref(&request.id), create)
        .await?;
    Ok(RolloutView::new(request.id.as_str(), &read(context, &request.id)?))
}

/// `rollouts.list`.
pub fn list(context: &Call<'_>, _request: Empty) -> Vec<RolloutView> {
    context.read(|fleet| {
        fleet
            .rollouts()
            .iter()
            .filter(|(_, r)| r.created())
            .map(|(id, r)| RolloutView::new(id.as_str(), r))
            .collect()
    })
}

/// `rollouts.get`.
pub fn get(context: &Call<'_>, request: RolloutRef) -> Result<RolloutView, ApiError> {
    Ok(RolloutView::new(request.id.as_str(), &read(context, &request.id)?))
}

/// `rollouts.pause|resume|abort`.
pub async fn command(
    context: &Call<'_>,
    request: RolloutRef,
    command: RolloutCommand,
) -> Result<RolloutView, ApiError> {
    read(context, &request.id)?;
    context
        .write(&context.hub.rollouts, rollout_ref(&request.id), command)
        .await?;
    Ok(RolloutView::new(request.id.as_str(), &read(context, &request.id)?))
}
