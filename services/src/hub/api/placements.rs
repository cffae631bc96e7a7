//! `ef.api.v1.placements.*`: apply, list, get, delete; `placement_explanations.get` (the recorded placement decided
//! again over the fleet now, every cluster explained) and `placement_dry_runs.get` (an unsaved spec over the fleet
//! now or as the log held it at a past time; nothing is written).

use super::context::Call;
use crate::api_types::placement_api::{
    PlacementApply, PlacementDryRun, PlacementExplanationView, PlacementRef, PlacementRow, PlacementView,
};
use crate::api_types::requests::Empty;
use crate::api_types::ApiError;
use actors::fleet_state::FleetState;
use actors::placement::{decide_placement, fleet_candidates, PlacementCommand};
use events::placement::{ClusterKey, PlacementSpec};
use events::{AggregateRef, Token};
use std::collections::{BTreeMap, BTreeSet};

/// The spec's app must exist at its version before anything is placed.
fn check_app(fleet: &FleetState, spec: &PlacementSpec) -> Result<(), ApiError> {
    match fleet.app(&spec.app.name) {
        None => Err(ApiError::not_found(format!(
            "app {} does not exist; publish it first (edgefleet apply -f with kind: App)",
            spec.app.name
        ))),
        Some(app) if !app.versions.contains_key(&spec.app.version) => Err(ApiError::not_found(format!(
            "app {} has no version {} (versions: {:?})",
            spec.app.name,
            spec.app.version,
            app.versions.keys().collect::<Vec<_>>()
        ))),
        Some(_) => Ok(()),
    }
}

/// `placements.apply`: validated (the app must exist at its version); an unchanged spec is a no-op. The hub's
/// planner decides it on its next pass.
pub async fn apply(context: &Call<'_>, request: PlacementApply) -> Result<PlacementView, ApiError> {
    context.read(|fleet| check_app(fleet, &request.spec))?;
    let aggregate = AggregateRef::placement(&request.name);
    let done = context
        .write(
            &context.hub.placements,
            aggregate,
            PlacementCommand::Apply(request.spec),
        )
        .await?;
    PlacementView::new(request.name.as_str(), &done.state)
        .ok_or_else(|| ApiError::internal("the applied placement has no spec"))
}

/// `placements.list`.
pub fn list(context: &Call<'_>, _request: Empty) -> Vec<PlacementRow> {
    context.read(|fleet| {
        fleet
            .placements()
            .filter_map(|(name, p)| PlacementRow::new(name.as_str(), p))
            .collect()
    })
}

/// `placements.get`.
pub fn get(context: &Call<'_>, request: PlacementRef) -> Result<PlacementView, ApiError> {
    let name = &request.name;
    context
        .read(|fleet| PlacementView::new(name.as_str(), fleet.placement(name)?))
        .ok_or_else(|| ApiError::not_found(format!("placement {name} does not exist")))
}

/// `placements.delete`: its app leaves every cluster it chose (on the planner's next pass).
pub async fn delete(context: &Call<'_>, request: PlacementRef) -> Result<PlacementView, ApiError> {
    let aggregate = AggregateRef::placement(&request.name);
    let done = context
        .write(&context.hub.placements, aggregate, PlacementCommand::Delete)
        .await?;
    PlacementView::new(request.name.as_str(), &done.state)
        .ok_or_else(|| ApiError::internal("the deleted placement has no spec"))
}

/// `spec` decided over `fleet` with `name`'s recorded decision as the steady one.
fn explain(
    fleet: &FleetState,
    name: &Token,
    spec: &PlacementSpec,
    offline_for_ms: &BTreeMap<Token, u64>,
) -> (Vec<String>, actors::placement::PlacementDecision) {
    let recorded: Vec<ClusterKey> = fleet.placement(name).map(|p| p.placed().to_vec()).unwrap_or_default();
    let previous: BTreeSet<ClusterKey> = recorded.iter().cloned().collect();
    let candidates = fleet_candidates(fleet, &spec.app.name, offline_for_ms);
    let decision = decide_placement(spec, &candidates, &previous);
    (recorded.iter().map(ToString::to_string).collect(), decision)
}

/// `placement_explanations.get`: the recorded placement decided again over the fleet as it is now.
pub fn explanation(context: &Call<'_>, request: PlacementRef) -> Result<PlacementExplanationView, ApiError> {
    let name = &request.name;
    let offline = context.directory.offline_for_ms();
    context.read(|fleet| {
        let placement = fleet
            .placement(name)
            .filter(|p| !p.deleted)
            .ok_or_else(|| ApiError::not_found(format!("placement {name} does not exist")))?;
        let spec = placement
            .spec
            .as_ref()
            .ok_or_else(|| ApiError::not_found(format!("placement {name} does not exist")))?;
        let (recorded, decision) = explain(fleet, name, spec, &offline);
        Ok(PlacementExplanationView {
            name: name.to_string(),
            dry_run: false,
            at_unix_ms: None,
            recorded,
            decision,
        })
    })
}

/// `placement_dry_runs.get`: an unsaved spec over the fleet now, or as the log held it at `at_unix_ms` (every site
/// then counts as connected: connectivity is observed, not history). Nothing is written.
pub async fn dry_run(context: &Call<'_>, request: PlacementDryRun) -> Result<PlacementExplanationView, ApiError> {
    actors::placement::validate_spec(&request.spec).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (recorded, decision) = match request.at_unix_ms {
        None => {
            let offline = context.directory.offline_for_ms();
            context.read(|fleet| {
                check_app(fleet, &request.spec)?;
                Ok::<_, ApiError>(explain(fleet, &request.name, &request.spec, &offline))
            })?
        }
        Some(at) => {
            let homes = context.log.homes();
            let streams: Vec<String> = std::iter::once(events::subject::INTENT_STREAM.to_string())
                .chain(homes.placed_streams())
                .collect();
            let quarantine = replay::Quarantine::in_memory();
            let fleet = replay::fleet_at(homes, &streams, at, &quarantine)
                .await
                .map_err(|e| ApiError::unavailable(format!("reading the fleet's history: {e}")))?;
            explain(&fleet, &request.name, &request.spec, &BTreeMap::new())
        }
    };
    Ok(PlacementExplanationView {
        name: request.name.to_string(),
        dry_run: true,
        at_unix_ms: request.at_unix_ms,
        recorded,
        decision,
    })
}
