//! `edgefleet clusters create|ls|get|delete`.

use super::api_client::HubApi;
use super::tables::{cell, key, print};
use crate::cli::{ClustersCommand, OutputFormat};
use serde_json::{json, Value};

fn pairs_json(pairs: Vec<(String, String)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

fn nodes(row: &Value) -> String {
    row["members"].as_array().map_or(0, Vec::len).to_string()
}

/// Prints clusters with the standard columns.
pub fn show(format: OutputFormat, value: &Value) -> anyhow::Result<()> {
    print(
        format,
        value,
        &[
            ("SITE", &key("site")),
            ("CLUSTER", &key("id")),
            ("STATE", &key("state")),
            ("PROFILE", &key("profile")),
            ("RUNNING", &key("running_profile")),
            ("NODES", &nodes),
        ],
    )
}

/// Runs a clusters subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: ClustersCommand) -> anyhow::Result<()> {
    match command {
        ClustersCommand::Create {
            id,
            site,
            profile,
            overrides,
            labels,
        } => {
            let body = json!({ "id": id, "site": site, "profile": profile, "overrides": pairs_json(overrides), "labels": pairs_json(labels) });
            let cluster = api.call("clusters.create", body).await?;
            eprintln!("cluster/{site}/{id} created from {profile}");
            show(format, &cluster)
        }
        ClustersCommand::Ls { site } => show(format, &api.call("clusters.list", json!({ "site": site })).await?),
        ClustersCommand::Get { id, site } => {
            let cluster = api.call("clusters.get", json!({ "id": id, "site": site })).await?;
            show(format, &cluster)?;
            if format == OutputFormat::Table {
                println!();
                let members = Value::Array(cluster["members"].as_array().cloned().unwrap_or_default());
                let (node, role, state) = (key("node"), key("role"), key("state"));
                print(format, &members, &[("NODE", &node), ("ROLE", &role), ("STATE", &state)])?;
            }
            Ok(())
        }
        ClustersCommand::Upgrade { id, profile, site } => {
            let cluster = api
                .call(
                    "clusters.upgrade",
                    json!({ "id": id, "site": site, "profile": profile }),
                )
                .await?;
            eprintln!("cluster/{}/{id} moving to {profile}", cell(&cluster["site"]));
            show(format, &cluster)
        }
        ClustersCommand::Delete { id, site } => {
            let cluster = api.call("clusters.delete", json!({ "id": id, "site": site })).await?;
            eprintln!("cluster/{}/{id} deleted", cell(&cluster["site"]));
            show(format, &cluster)
        }
    }
}
