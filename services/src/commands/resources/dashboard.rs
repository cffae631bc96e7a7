//! `edgefleet dashboard url`: a sign-in link to the hub's dashboard for the caller's own identity (the hub reads it
//! off the request, as for every API call).

use super::api_client::HubApi;
use crate::api_types::dashboard_link::DashboardLinkView;
use crate::api_types::requests::Empty;
use crate::cli::{DashboardCommand, OutputFormat};

/// Runs a dashboard subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: DashboardCommand) -> anyhow::Result<()> {
    match command {
        DashboardCommand::Url => {
            let link: DashboardLinkView = api.call("dashboard_links.get", &Empty {}).await?;
            match format {
                OutputFormat::Table => {
                    eprintln!(
                        "sign-in link for {} ({}), good once until {}:",
                        link.user,
                        link.role,
                        crate::output::rfc3339_ms(link.expires_unix_ms)
                    );
                    println!("{}", link.url);
                }
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&link)?),
                OutputFormat::Yaml => print!("{}", serde_norway::to_string(&link)?),
            }
            Ok(())
        }
    }
}
