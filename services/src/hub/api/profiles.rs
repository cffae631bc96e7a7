//! `ef.api.v1.profiles.*`: apply (publish a new immutable version when the layers changed), list, get.

use super::context::Call;
use crate::api_types::requests::{Empty, ProfileApply, ProfileGet};
use crate::api_types::views::{ProfileRow, ProfileView};
use crate::api_types::ApiError;
use actors::profile::ProfileCommand;
use events::AggregateRef;

/// `profiles.apply`: validated; identical layers are a no-op returning the existing version.
pub async fn apply(context: &Call<'_>, request: ProfileApply) -> Result<ProfileView, ApiError> {
    let aggregate = AggregateRef::profile(&request.name);
    let done = context
        .write(
            &context.hub.profiles,
            aggregate,
            ProfileCommand::Publish(request.layers),
        )
        .await?;
    ProfileView::new(request.name.as_str(), &done.state, None, !done.events.is_empty())
        .ok_or_else(|| ApiError::internal("the published profile has no version"))
}

/// `profiles.list`.
pub fn list(context: &Call<'_>, _request: Empty) -> Vec<ProfileRow> {
    context.read(|fleet| {
        fleet
            .profiles()
            .filter_map(|(name, p)| {
                let (latest, layers) = p.latest()?;
                Some(ProfileRow {
                    name: name.to_string(),
                    latest,
                    versions: p.versions.keys().copied().collect(),
                    k8s: format!("{} {}", layers.k8s.distro, layers.k8s.version),
                    os: format!("{} {}", layers.os.image, layers.os.version),
                })
            })
            .collect()
    })
}

/// `profiles.get`.
pub fn get(context: &Call<'_>, request: ProfileGet) -> Result<ProfileView, ApiError> {
    let name = &request.name;
    context
        .read(|fleet| ProfileView::new(name.as_str(), fleet.profile(name)?, request.version, false))
        .ok_or_else(|| match request.version {
            None => ApiError::not_found(format!("profile {name} does not exist")),
            Some(v) => ApiError::not_found(format!("profile {name} has no version {v}")),
        })
}
