//! `ef.api.v1.rollouts.*`: create (targets = clusters whose labels, or their site's labels, match the selector),
//! list, get (with per-cluster progress), pause, resume, abort.

use super::clusters::parse_profile;
use super::error::ApiError;
use super::requests::{Empty, RolloutCreate, RolloutRef};
use super::ApiContext;
use crate::hub::rollouts::{full_state, rollout_ref};
use crate::registries::dispatch;
use actors::rollout::{RolloutCommand, RolloutState};
use actors::AnyAggregate;
use events::rollout::ClusterTarget;
use events::{AggregateKind, AggregateRef, Scope, Token};
use serde::Serialize;
use std::collections::BTreeMap;

/// A rollout as the API shows it.
#[derive(Debug, Serialize)]
pub struct RolloutView {
    /// Rollout id.
    pub id: String,
    /// Target profile.
    pub profile: Option<String>,
    /// `running`, `paused: …`, `aborted`, `complete`.
    pub state: String,
    /// Waves released so far.
    pub released_waves: usize,
    /// Clusters per wave with their status.
    pub waves: Vec<Vec<ClusterProgress>>,
    /// Failures so far / budget.
    pub failures: u32,
    /// Failure budget.
    pub failure_budget: u32,
    /// Maintenance window.
    pub window: Option<String>,
}

/// One cluster's progress.
#[derive(Debug, Serialize)]
pub struct ClusterProgress {
    /// `site/cluster`.
    pub cluster: String,
    /// pending, updating, updated, failed: …, rolled back, skipped: ….
    pub status: String,
}

fn view(id: &Token, state: &RolloutState) -> RolloutView {
    let status_text = |target: &ClusterTarget| {
        let status = format!("{:?}", state.cluster_status(target));
        status.to_lowercase()
    };
    let run_state = if state.spec.aborted {
        "aborted".to_string()
    } else if let Some(reason) = &state.spec.paused {
        format!("paused: {reason:?}").to_lowercase()
    } else if state.is_complete() {
        "complete".to_string()
    } else {
        "running".to_string()
    };
    RolloutView {
        id: id.to_string(),
        profile: state.spec.profile.as_ref().map(ToString::to_string),
        state: run_state,
        released_waves: state.spec.released_unix_s.len(),
        waves: state
            .spec
            .plan
            .iter()
            .map(|wave| {
                wave.iter()
                    .map(|t| ClusterProgress {
                        cluster: t.to_string(),
                        status: status_text(t),
                    })
                    .collect()
            })
            .collect(),
        failures: state.failures(),
        failure_budget: state.spec.failure_budget,
        window: state.spec.window.clone(),
    }
}

async fn read(context: &ApiContext, id: &Token) -> Result<RolloutState, ApiError> {
    let state = full_state(&context.hub, &context.directory, id)
        .await
        .map_err(|e| ApiError {
            code: 503,
            message: format!("{e:#}"),
        })?;
    if !state.created() {
        return Err(ApiError::not_found(format!("rollout {id} does not exist")));
    }
    Ok(state)
}

/// `rollouts.create`.
pub async fn create(context: &ApiContext, request: RolloutCreate) -> Result<RolloutView, ApiError> {
    let id = Token::new(request.id)?;
    let profile = parse_profile(&request.profile)?;
    context.view.catch_up(&context.directory, &context.js).await;
    let selector = request.selector.clone();
    let targets: Vec<ClusterTarget> = context
        .view
        .with(|fleet| {
            let site_labels = |site: &Token| match fleet.get(&AggregateRef::site(site)) {
                Some(AnyAggregate::Site(s)) => s.spec.labels.clone(),
                _ => BTreeMap::new(),
            };
            fleet
                .aggregates
                .iter()
                .filter_map(|(a, e)| match (&a.scope, &e.state) {
                    (Scope::Site(site), AnyAggregate::Cluster(c)) if c.spec.profile.is_some() && !c.spec.deleted => {
                        let mut labels = site_labels(site);
                        labels.extend(c.spec.labels.clone());
                        selector
                            .iter()
                            .all(|(k, v)| labels.get(k) == Some(v))
                            .then(|| ClusterTarget {
                                site: site.clone(),
                                cluster: a.id.clone(),
                            })
                    }
                    _ => None,
                })
                .collect()
        })
        .await;
    if targets.is_empty() {
        return Err(ApiError::not_found(format!(
            "no cluster matches the selector {:?}",
            request.selector
        )));
    }
    let create = RolloutCommand::Create {
        profile,
        selector: request.selector,
        waves: request.waves,
        failure_budget: request.failure_budget,
        window: request.window,
        skip_after_s: request.skip_after_s,
        targets,
    };
    let done = dispatch(&context.hub.rollouts, rollout_ref(&id), create, "operator").await?;
    Ok(view(&id, &done.state))
}

/// `rollouts.list`.
pub async fn list(context: &ApiContext, _request: Empty) -> Result<Vec<RolloutView>, ApiError> {
    context.view.catch_up(&context.directory, &context.js).await;
    let ids: Vec<Token> = context
        .view
        .with(|fleet| {
            fleet
                .aggregates
                .keys()
                .filter(|a| a.kind == AggregateKind::Rollout && a.scope == Scope::All)
                .map(|a| a.id.clone())
                .collect()
        })
        .await;
    let mut views = Vec::new();
    for id in ids {
        views.push(view(&id, &read(context, &id).await?));
    }
    Ok(views)
}

/// `rollouts.get`.
pub async fn get(context: &ApiContext, request: RolloutRef) -> Result<RolloutView, ApiError> {
    let id = Token::new(request.id)?;
    Ok(view(&id, &read(context, &id).await?))
}

/// `rollouts.pause|resume|abort`.
pub async fn command(
    context: &ApiContext,
    request: RolloutRef,
    command: RolloutCommand,
) -> Result<RolloutView, ApiError> {
    let id = Token::new(request.id)?;
    read(context, &id).await?;
    dispatch(&context.hub.rollouts, rollout_ref(&id), command, "operator").await?;
    Ok(view(&id, &read(context, &id).await?))
}
