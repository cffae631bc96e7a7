//! `edgefleet apps ls|get` (apps are published with `edgefleet apply -f` and `kind: App`).

use super::api_client::HubApi;
use super::tables::{print_list, print_one, Column};
use crate::api_types::placement_api::{AppGet, AppRow, AppView};
use crate::api_types::requests::Empty;
use crate::cli::{AppsCommand, OutputFormat};
use events::app::AppRelease;

fn installs(release: &AppRelease) -> String {
    match release {
        AppRelease::Helm {
            chart,
            version,
            namespace,
            ..
        } => format!("{chart}@{version} in {namespace}"),
        AppRelease::Manifests { yaml } => format!("manifests ({} bytes)", yaml.len()),
    }
}

const DETAIL: &[Column<'static, AppView>] = &[
    ("APP", &|a: &AppView| a.name.clone()),
    ("VERSION", &|a: &AppView| a.version.to_string()),
    ("VERSIONS", &|a: &AppView| {
        a.versions.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    }),
    ("INSTALLS", &|a: &AppView| installs(&a.release)),
];

const ROWS: &[Column<'static, AppRow>] = &[
    ("APP", &|a: &AppRow| a.name.clone()),
    ("LATEST", &|a: &AppRow| a.latest.to_string()),
    ("INSTALLS", &|a: &AppRow| a.installs.clone()),
];

/// Runs an apps subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: AppsCommand) -> anyhow::Result<()> {
    match command {
        AppsCommand::Ls => {
            let rows: Vec<AppRow> = api.call("apps.list", &Empty {}).await?;
            print_list(format, &rows, ROWS)
        }
        AppsCommand::Get { name } => {
            let request = match name.parse::<events::app::AppRef>() {
                Ok(app) => AppGet {
                    name: app.name,
                    version: Some(app.version),
                },
                Err(_) => AppGet {
                    name: events::Token::new(name)?,
                    version: None,
                },
            };
            let view: AppView = api.call("apps.get", &request).await?;
            print_one(format, &view, DETAIL)
        }
    }
}
