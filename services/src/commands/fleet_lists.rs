//! `edgefleet sites ls` and `edgefleet nodes ls`: the hub's view, through its API.

use crate::cli::OutputFormat;
use crate::output::{print, rfc3339_ms};
use anyhow::Context;
use serde_json::Value;
use std::process::ExitCode;

async fn request(hub: Option<&str>, endpoint: &str) -> anyhow::Result<Value> {
    let url = hub.context("no hub given: pass --hub nats://HOST:PORT or set EDGEFLEET_HUB")?;
    let client = async_nats::ConnectOptions::new()
        .name("edgefleet-cli")
        .connection_timeout(std::time::Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("cannot reach the hub at {url}"))?;
    let subject = format!("{}.{endpoint}", events::subject::API_PREFIX);
    let reply = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        client.request(subject.clone(), "{}".into()),
    )
    .await
    .with_context(|| format!("{subject}: the hub did not answer within 10 s"))?
    .with_context(|| format!("{subject}: is `edgefleet hub` running?"))?;
    serde_json::from_slice(&reply.payload).with_context(|| format!("{subject}: the hub's reply is not JSON"))
}

fn text(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ago(ms: Option<u64>) -> String {
    match ms {
        None => "-".into(),
        Some(ms) if ms < 1_000 => format!("{ms}ms ago"),
        Some(ms) => format!("{}s ago", ms / 1_000),
    }
}

/// `edgefleet sites ls`.
pub async fn sites(hub: Option<&str>, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let rows = request(hub, "sites.list").await?;
    let table: Vec<Vec<String>> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            vec![
                text(r, "site"),
                text(r, "connection"),
                r["last_seen_unix_ms"].as_u64().map_or("-".into(), rfc3339_ms),
                if r["connection"] == "connected" {
                    text(r, "replication_lag")
                } else {
                    format!(">={}", text(r, "replication_lag"))
                },
                text(r, "copied_events"),
            ]
        })
        .collect();
    print(
        format,
        &["SITE", "CONNECTION", "LAST SEEN", "LAG", "EVENTS AT HUB"],
        &table,
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `edgefleet nodes ls`.
pub async fn nodes(hub: Option<&str>, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let rows = request(hub, "nodes.list").await?;
    let table: Vec<Vec<String>> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let state = if r["silent"].as_bool() == Some(true) {
                format!("{} (silent)", text(r, "state"))
            } else {
                text(r, "state")
            };
            vec![
                text(r, "site"),
                text(r, "node"),
                state,
                text(r, "cluster"),
                text(r, "role"),
                ago(r["last_heartbeat_ms_ago"].as_u64()),
            ]
        })
        .collect();
    print(
        format,
        &["SITE", "NODE", "STATE", "CLUSTER", "ROLE", "LAST HEARTBEAT"],
        &table,
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}
