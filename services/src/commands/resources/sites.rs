//! `edgefleet sites ls|get|label`.

use super::api_client::HubApi;
use super::tables::{cell, key, print};
use crate::cli::{OutputFormat, SitesCommand};
use crate::output::rfc3339_ms;
use serde_json::{json, Value};

fn last_seen(row: &Value) -> String {
    row["last_seen_unix_ms"].as_u64().map_or("-".into(), rfc3339_ms)
}

fn lag(row: &Value) -> String {
    if row["connection"] == "connected" {
        cell(&row["replication_lag"])
    } else {
        format!(">={}", cell(&row["replication_lag"]))
    }
}

/// Runs a sites subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: SitesCommand) -> anyhow::Result<()> {
    let (site, connection, events) = (key("site"), key("connection"), key("copied_events"));
    let labels = key("labels");
    match command {
        SitesCommand::Ls => {
            let rows = api.call("sites.list", json!({})).await?;
            print(
                format,
                &rows,
                &[
                    ("SITE", &site),
                    ("CONNECTION", &connection),
                    ("LAST SEEN", &last_seen),
                    ("LAG", &lag),
                    ("EVENTS AT HUB", &events),
                ],
            )
        }
        SitesCommand::Get { id } => {
            let row = api.call("sites.get", json!({ "id": id })).await?;
            print(
                format,
                &row,
                &[
                    ("SITE", &site),
                    ("CONNECTION", &connection),
                    ("LAST SEEN", &last_seen),
                    ("LAG", &lag),
                    ("LABELS", &labels),
                ],
            )
        }
        SitesCommand::Label { id, labels: pairs } => {
            let labels_map: serde_json::Map<String, Value> =
                pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let row = api
                .call("sites.label", json!({ "id": id, "labels": labels_map }))
                .await?;
            eprintln!("site/{id} labelled");
            print(format, &row, &[("SITE", &site), ("LABELS", &labels)])
        }
    }
}
