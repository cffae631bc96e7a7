//! `edgefleet placements apply|ls|get|explain|delete`. An explanation prints, as a table, every cluster with the
//! filter that removed it or its scores, then the summary; as JSON or YAML, the whole decision.

use super::api_client::HubApi;
use super::manifest;
use super::tables::{print_list, print_one, Column};
use crate::api_types::placement_api::{
    PlacementDryRun, PlacementExplanationView, PlacementRef, PlacementRow, PlacementView,
};
use crate::api_types::requests::Empty;
use crate::cli::{OutputFormat, PlacementsCommand};
use anyhow::Context;

const DETAIL: &[Column<'static, PlacementView>] = &[
    ("PLACEMENT", &|p: &PlacementView| p.name.clone()),
    ("APP", &|p: &PlacementView| p.app.to_string()),
    ("GENERATION", &|p: &PlacementView| p.generation.to_string()),
    ("CHOSEN", &|p: &PlacementView| {
        if p.deleted {
            "(deleted)".into()
        } else {
            p.chosen.join(",")
        }
    }),
    ("SUMMARY", &|p: &PlacementView| {
        p.summary.clone().unwrap_or_else(|| "not decided yet".into())
    }),
];

const ROWS: &[Column<'static, PlacementRow>] = &[
    ("PLACEMENT", &|p: &PlacementRow| p.name.clone()),
    ("APP", &|p: &PlacementRow| p.app.clone()),
    ("CHOSEN", &|p: &PlacementRow| match p.wanted {
        Some(wanted) => format!("{}/{wanted}", p.chosen),
        None => p.chosen.to_string(),
    }),
    ("DELETED", &|p: &PlacementRow| if p.deleted { "yes" } else { "" }.into()),
];

/// `--at`: an RFC 3339 time, or a duration ago (`7d`, `36h`); Unix ms.
fn parse_at(at: &str) -> anyhow::Result<u64> {
    let time = match humantime::parse_duration(at) {
        Ok(ago) => std::time::SystemTime::now()
            .checked_sub(ago)
            .context("--at is too far back")?,
        Err(_) => humantime::parse_rfc3339_weak(at)
            .with_context(|| format!("--at {at:?}: expected an RFC 3339 time or a duration ago such as 7d"))?,
    };
    Ok(time
        .duration_since(std::time::UNIX_EPOCH)
        .context("--at is before 1970")?
        .as_millis() as u64)
}

fn print_explanation(format: OutputFormat, view: &PlacementExplanationView) -> anyhow::Result<()> {
    match format {
        OutputFormat::Table => {
            let what = match (view.dry_run, view.at_unix_ms) {
                (false, _) => "decided again over the fleet now".to_string(),
                (true, None) => "dry run over the fleet now; nothing saved".to_string(),
                (true, Some(ms)) => format!(
                    "dry run over the fleet as of {}; nothing saved",
                    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
                ),
            };
            println!("placement {} ({what})", view.name);
            let recorded = if view.recorded.is_empty() {
                "nothing".to_string()
            } else {
                view.recorded.join(", ")
            };
            println!("recorded decision: {recorded}");
            let chosen: Vec<String> = view.decision.chosen.iter().map(ToString::to_string).collect();
            println!(
                "would choose: {}",
                if chosen.is_empty() {
                    "nothing".into()
                } else {
                    chosen.join(", ")
                }
            );
            print!("{}", view.decision);
            Ok(())
        }
        _ => print_one(format, view, &[]),
    }
}

/// Runs a placements subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: PlacementsCommand) -> anyhow::Result<()> {
    match command {
        PlacementsCommand::Apply { file, dry_run, at } => {
            let at_unix_ms = at.as_deref().map(parse_at).transpose()?;
            for document in manifest::read(&file)? {
                let request = match document {
                    manifest::Document::Placement(request) => request,
                    other => anyhow::bail!("{file}: expected kind Placement, found {}", other.kind()),
                };
                if dry_run {
                    let request = PlacementDryRun {
                        name: request.name,
                        spec: request.spec,
                        at_unix_ms,
                    };
                    let view: PlacementExplanationView = api.call("placement_dry_runs.get", &request).await?;
                    print_explanation(format, &view)?;
                } else {
                    let view: PlacementView = api.call("placements.apply", &request).await?;
                    print_one(format, &view, DETAIL)?;
                }
            }
            Ok(())
        }
        PlacementsCommand::Ls => {
            let rows: Vec<PlacementRow> = api.call("placements.list", &Empty {}).await?;
            print_list(format, &rows, ROWS)
        }
        PlacementsCommand::Get { name } => {
            let view: PlacementView = api.call("placements.get", &PlacementRef { name }).await?;
            print_one(format, &view, DETAIL)
        }
        PlacementsCommand::Explain { name } => {
            let view: PlacementExplanationView = api.call("placement_explanations.get", &PlacementRef { name }).await?;
            print_explanation(format, &view)
        }
        PlacementsCommand::Delete { name } => {
            let view: PlacementView = api.call("placements.delete", &PlacementRef { name }).await?;
            print_one(format, &view, DETAIL)
        }
    }
}
