//! `ef.api.v1.apps.*`: apply (publish a new immutable version when the release changed), list, get.

use super::context::Call;
use crate::api_types::placement_api::{AppApply, AppGet, AppRow, AppView};
use crate::api_types::requests::Empty;
use crate::api_types::ApiError;
use actors::app::AppCommand;
use events::AggregateRef;

/// `apps.apply`: validated; an identical release is a no-op returning the existing version.
pub async fn apply(context: &Call<'_>, request: AppApply) -> Result<AppView, ApiError> {
    let aggregate = AggregateRef::app(&request.name);
    let done = context
        .write(&context.hub.apps, aggregate, AppCommand::Publish(request.release))
        .await?;
    AppView::new(request.name.as_str(), &done.state, None, !done.events.is_empty())
        .ok_or_else(|| ApiError::internal("the published app has no version"))
}

/// `apps.list`.
pub fn list(context: &Call<'_>, _request: Empty) -> Vec<AppRow> {
    context.read(|fleet| {
        fleet
            .apps()
            .filter_map(|(name, a)| AppRow::new(name.as_str(), a))
            .collect()
    })
}

/// `apps.get`.
pub fn get(context: &Call<'_>, request: AppGet) -> Result<AppView, ApiError> {
    let name = &request.name;
    context
        .read(|fleet| AppView::new(name.as_str(), fleet.app(name)?, request.version, false))
        .ok_or_else(|| match request.version {
            None => ApiError::not_found(format!("app {name} does not exist")),
            Some(v) => ApiError::not_found(format!("app {name} has no version {v}")),
        })
}
