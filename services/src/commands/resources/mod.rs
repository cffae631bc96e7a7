//! Client commands for the hub's resources (sites, nodes, profiles, clusters, manifests), through the API.
//! Output goes to stdout (`-o table|json|yaml`), messages to stderr; a refused request exits 1.

pub mod api_client;
pub mod apps;
pub mod clusters;
pub mod config;
pub mod dashboard;
mod manifest;
pub mod nodes;
mod placement_manifest;
pub mod placements;
pub mod profiles;
pub mod quarantine;
pub mod rollouts;
mod site_bundle_files;
pub use site_bundle_files::write as write_site_bundle;
pub mod sites;
mod tables;
pub mod users;

use crate::cli::OutputFormat;
use api_client::HubApi;
use std::process::ExitCode;

/// Outcome of a resource command.
pub type Outcome = anyhow::Result<ExitCode>;

/// Runs one resource subcommand against the hub API: connect, run, turn a refusal into exit 1.
pub async fn on_hub<C>(
    hub: &crate::hub_connection::HubAddress,
    format: OutputFormat,
    command: C,
    run: impl AsyncFnOnce(&HubApi, OutputFormat, C) -> anyhow::Result<()>,
) -> Outcome {
    let api = HubApi::connect(hub).await?;
    api.finish(run(&api, format, command).await)
}

/// `edgefleet apply -f FILE`.
pub async fn apply(hub: &crate::hub_connection::HubAddress, file: &str) -> Outcome {
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
