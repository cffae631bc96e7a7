//! `edgefleet nodes ls|get|assign|unassign|reset|label`.

use super::api_client::HubApi;
use super::tables::{ago, cell, key, print};
use crate::cli::{NodesCommand, OutputFormat};
use serde_json::{json, Value};

fn state(row: &Value) -> String {
    let state = cell(&row["state"]);
    if row["silent"] == true {
        format!("{state} (silent)")
    } else {
        state
    }
}

fn heartbeat(row: &Value) -> String {
    ago(&row["last_heartbeat_ms_ago"])
}

fn labels_json(pairs: Vec<(String, String)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// Prints one node (or a list) with the standard columns.
fn show(format: OutputFormat, value: &Value) -> anyhow::Result<()> {
    let (site, node, cluster, role) = (key("site"), key("id"), key("cluster"), key("role"));
    print(
        format,
        value,
        &[
            ("SITE", &site),
            ("NODE", &node),
            ("STATE", &state),
            ("CLUSTER", &cluster),
            ("ROLE", &role),
            ("LAST HEARTBEAT", &heartbeat),
        ],
    )
}

/// Runs a nodes subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: NodesCommand) -> anyhow::Result<()> {
    match command {
        NodesCommand::Ls { site, state, labels } => {
            let rows = api
                .call(
                    "nodes.list",
                    json!({ "site": site, "state": state, "labels": labels_json(labels) }),
                )
                .await?;
            show(format, &rows)
        }
        NodesCommand::Get { id, site } => {
            let node = api.call("nodes.get", json!({ "id": id, "site": site })).await?;
            if format == OutputFormat::Table {
                let (assigned, labels, generation) = (key("assigned_cluster"), key("labels"), key("generation"));
                let observed = key("observed_generation");
                print(
                    format,
                    &node,
                    &[
                        ("NODE", &key("id")),
                        ("STATE", &state),
                        ("ASSIGNED", &assigned),
                        ("LABELS", &labels),
                        ("GEN", &generation),
                        ("OBSERVED", &observed),
                    ],
                )?;
                println!();
                return show(format, &node);
            }
            show(format, &node)
        }
        NodesCommand::Assign {
            id,
            cluster,
            role,
            site,
        } => {
            let node = api
                .call(
                    "nodes.assign",
                    json!({ "id": id, "site": site, "cluster": cluster, "role": role }),
                )
                .await?;
            eprintln!("node/{id} assigned to {cluster} as {role}");
            show(format, &node)
        }
        NodesCommand::Unassign { id, site } => {
            let node = api.call("nodes.unassign", json!({ "id": id, "site": site })).await?;
            eprintln!("node/{id} unassigned");
            show(format, &node)
        }
        NodesCommand::Reset { id, site } => {
            let node = api.call("nodes.reset", json!({ "id": id, "site": site })).await?;
            eprintln!("node/{id} reset to bootstrap requested");
            show(format, &node)
        }
        NodesCommand::Label { id, labels, site } => {
            let node = api
                .call(
                    "nodes.label",
                    json!({ "id": id, "site": site, "labels": labels_json(labels) }),
                )
                .await?;
            eprintln!("node/{id} labelled");
            show(format, &node)
        }
    }
}
