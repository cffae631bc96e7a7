//! Client commands for the hub's resources (sites, nodes, profiles, clusters, manifests), through the API.
//! Output goes to stdout (`-o table|json|yaml`), messages to stderr; a refused request exits 1.

pub mod api_client;
mod clusters;
mod manifest;
mod nodes;
mod profiles;
mod quarantine;
mod rollouts;
mod sites;
mod tables;

use crate::cli::{
    ClustersCommand, NodesCommand, OutputFormat, ProfilesCommand, QuarantineCommand, RolloutsCommand, SitesCommand,
};
use api_client::HubApi;
use std::process::ExitCode;

/// Outcome of a resource command.
pub type Outcome = anyhow::Result<ExitCode>;

/// `edgefleet sites …`.
pub async fn sites(hub: Option<&str>, format: OutputFormat, command: SitesCommand) -> Outcome {
    let api = HubApi::connect(hub).await?;
    api.finish(sites::run(&api, format, command).await)
}

/// `edgefleet nodes …`.
pub async fn nodes(hub: Option<&str>, format: OutputFormat, command: NodesCommand) -> Outcome {
    let api = HubApi::connect(hub).await?;
    api.finish(nodes::run(&api, format, command).await)
}

/// `edgefleet profiles …`.
pub async fn profiles(hub: Option<&str>, format: OutputFormat, command: ProfilesCommand) -> Outcome {
    let api = HubApi::connect(hub).await?;
    api.finish(profiles::run(&api, format, command).await)
}

/// `edgefleet clusters …`.
pub async fn clusters(hub: Option<&str>, format: OutputFormat, command: ClustersCommand) -> Outcome {
    let api = HubApi::connect(hub).await?;
    api.finish(clusters::run(&api, format, command).await)
}

/// `edgefleet rollouts …`.
pub async fn rollouts(hub: Option<&str>, format: OutputFormat, command: RolloutsCommand) -> Outcome {
    let api = HubApi::connect(hub).await?;
    api.finish(rollouts::run(&api, format, command).await)
}

/// `edgefleet quarantine …`.
pub async fn quarantine(hub: Option<&str>, format: OutputFormat, command: QuarantineCommand) -> Outcome {
    let api = HubApi::connect(hub).await?;
    api.finish(quarantine::run(&api, format, command).await)
}

/// `edgefleet apply -f FILE`.
pub async fn apply(hub: Option<&str>, file: &str) -> Outcome {
    let documents = match manifest::read(file) {
        Ok(documents) => documents,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    let api = HubApi::connect(hub).await?;
    api.finish(manifest::apply(&api, documents).await)
}
