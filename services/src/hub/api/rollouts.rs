//! `ef.api.v1.rollouts.*`: create (targets = clusters whose labels, or their site's labels, match the selector),
//! list, get (with per-cluster progress folded from every site's reports), pause, resume, abort, and explain (why
//! it is where it is, from the merged history of its plan and every site's reports).

use super::context::Call;
use crate::api_types::requests::{Empty, RolloutCreate, RolloutRef};
use crate::api_types::views::RolloutView;
use crate::api_types::ApiError;
use actors::rollout::explain::{self, HistoryEvent, RolloutExplanation};
use actors::rollout::{RolloutCommand, RolloutState};
use events::rollout::ClusterTarget;
use events::Payload;
use events::{AggregateKind, AggregateRef, Scope, Token};
use std::collections::BTreeSet;

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
        gate: request.gate,
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

/// `rollout_explanations.get` (`edgefleet rollouts explain`; a `.get` so viewers may call it): the history of the plan (`rollout/all/<id>`) and of every planned site's companion
/// (`rollout/<site>/<id>`), merged by time, explained step by step.
pub async fn explain(context: &Call<'_>, request: RolloutRef) -> Result<RolloutExplanation, ApiError> {
    let state = read(context, &request.id)?;
    let sites: BTreeSet<Token> = state.spec.plan.iter().flatten().map(|t| t.site.clone()).collect();
    let aggregates = std::iter::once(Scope::All).chain(sites.into_iter().map(Scope::Site));
    let mut records = Vec::new();
    for scope in aggregates {
        let aggregate = AggregateRef {
            kind: AggregateKind::Rollout,
            scope,
            id: request.id.clone(),
        };
        let entries = replay::history(&context.log, &aggregate)
            .await
            .map_err(|e| ApiError::unavailable(format!("reading {aggregate}'s history: {e}")))?;
        records.extend(entries.into_iter().map(|e| e.recorded));
    }
    // A companion's history holds the plan's events too (its state needs them): keep each event once.
    let mut seen = std::collections::HashSet::new();
    records.retain(|r| seen.insert(r.envelope.id));
    // Each stream's records in its own order (a stable sort keeps a decision's events together), then by time.
    records.sort_by(|a, b| (&a.stream, a.seq).cmp(&(&b.stream, b.seq)));
    let history: Vec<HistoryEvent> = replay::history::merge_by_time(records)
        .into_iter()
        .filter_map(|r| match r.envelope.payload {
            Payload::Rollout(event) => Some(HistoryEvent {
                at: r.envelope.hlc,
                by: r.envelope.by,
                event,
            }),
            _ => None,
        })
        .collect();
    Ok(explain::explain(&history))
}
