//! `ef.api.v1.profiles.*`: apply (publish a new immutable version when the layers changed), list, get.

use super::error::ApiError;
use super::requests::{Empty, ProfileApply, ProfileRefRequest};
use super::ApiContext;
use crate::registries::{dispatch, query};
use actors::profile::{ProfileCommand, ProfileState};
use actors::AnyAggregate;
use events::profile::ProfileLayers;
use events::{AggregateKind, AggregateRef, Token};
use serde::Serialize;

/// One profile version.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    /// Name.
    pub name: String,
    /// The version shown.
    pub version: u32,
    /// Every published version.
    pub versions: Vec<u32>,
    /// True if this request published the version.
    pub created: bool,
    /// Its layers.
    pub layers: ProfileLayers,
}

/// One row of `profiles.list`.
#[derive(Debug, Serialize)]
pub struct ProfileRow {
    /// Name.
    pub name: String,
    /// Latest version.
    pub latest: u32,
    /// Every version.
    pub versions: Vec<u32>,
    /// Kubernetes of the latest version.
    pub k8s: String,
    /// OS image of the latest version.
    pub os: String,
}

fn at(name: &Token, state: &ProfileState, version: Option<u32>, created: bool) -> Result<ProfileView, ApiError> {
    let (version, layers) = match version {
        Some(v) => (v, state.versions.get(&v)),
        None => match state.latest() {
            Some((v, layers)) => (v, Some(layers)),
            None => (0, None),
        },
    };
    let layers = layers.ok_or_else(|| match version {
        0 => ApiError::not_found(format!("profile {name} does not exist")),
        v => ApiError::not_found(format!("profile {name} has no version {v}")),
    })?;
    Ok(ProfileView {
        name: name.to_string(),
        version,
        versions: state.versions.keys().copied().collect(),
        created,
        layers: layers.clone(),
    })
}

/// `profiles.apply`: validated; identical layers are a no-op returning the existing version.
pub async fn apply(context: &ApiContext, request: ProfileApply) -> Result<ProfileView, ApiError> {
    let name = Token::new(request.name)?;
    let done = dispatch(
        &context.hub.profiles,
        AggregateRef::profile(&name),
        ProfileCommand::Publish(request.layers),
        "operator",
    )
    .await?;
    at(&name, &done.state, None, !done.events.is_empty())
}

/// `profiles.list`.
pub async fn list(context: &ApiContext, _request: Empty) -> Result<Vec<ProfileRow>, ApiError> {
    context.view.catch_up(&context.directory, &context.js).await;
    Ok(context
        .view
        .with(|fleet| {
            fleet
                .aggregates
                .iter()
                .filter(|(a, _)| a.kind == AggregateKind::Profile)
                .filter_map(|(a, entry)| match &entry.state {
                    AnyAggregate::Profile(p) => p.latest().map(|(latest, layers)| ProfileRow {
                        name: a.id.to_string(),
                        latest,
                        versions: p.versions.keys().copied().collect(),
                        k8s: format!("{} {}", layers.k8s.distro, layers.k8s.version),
                        os: format!("{} {}", layers.os.image, layers.os.version),
                    }),
                    _ => None,
                })
                .collect()
        })
        .await)
}

/// `profiles.get`.
pub async fn get(context: &ApiContext, request: ProfileRefRequest) -> Result<ProfileView, ApiError> {
    let name = Token::new(request.name)?;
    let state: ProfileState = query(&context.hub.profiles, AggregateRef::profile(&name))
        .await
        .map_err(|e| ApiError {
            code: 503,
            message: format!("{e:#}"),
        })?;
    at(&name, &state, request.version, false)
}
