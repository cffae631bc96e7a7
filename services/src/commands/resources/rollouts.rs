//! `edgefleet rollouts create|ls|get|pause|resume|abort|watch`.

use super::api_client::HubApi;
use super::tables::{cell, key, print};
use crate::cli::{OutputFormat, RolloutsCommand};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::time::Duration;

fn counts(rollout: &Value) -> (usize, usize) {
    let clusters: Vec<&Value> = rollout["waves"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .collect();
    let done = clusters
        .iter()
        .filter(|c| c["status"] == "updated" || c["status"].as_str().is_some_and(|s| s.starts_with("skipped")))
        .count();
    (done, clusters.len())
}

fn progress(rollout: &Value) -> String {
    let (done, total) = counts(rollout);
    format!("{done}/{total}")
}

fn show(format: OutputFormat, value: &Value) -> anyhow::Result<()> {
    let failures = |r: &Value| format!("{}/{}", cell(&r["failures"]), cell(&r["failure_budget"]));
    let waves = |r: &Value| {
        format!(
            "{}/{}",
            cell(&r["released_waves"]),
            r["waves"].as_array().map_or(0, Vec::len)
        )
    };
    print(
        format,
        value,
        &[
            ("ROLLOUT", &key("id")),
            ("PROFILE", &key("profile")),
            ("STATE", &key("state")),
            ("WAVES", &waves),
            ("UPDATED", &progress),
            ("FAILURES", &failures),
        ],
    )
}

/// One line per wave: a bar on a terminal, plain counts otherwise.
fn wave_lines(rollout: &Value, terminal: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, wave) in rollout["waves"].as_array().into_iter().flatten().enumerate() {
        let clusters = wave.as_array().cloned().unwrap_or_default();
        let done = clusters.iter().filter(|c| c["status"] == "updated").count();
        let failed = clusters
            .iter()
            .filter(|c| c["status"].as_str().is_some_and(|s| s.starts_with("failed")))
            .count();
        let total = clusters.len().max(1);
        let line = if terminal {
            let width = 30;
            let filled = done * width / total;
            format!(
                "wave {i}: [{}{}] {done}/{} updated, {failed} failed",
                "#".repeat(filled),
                "-".repeat(width - filled),
                clusters.len()
            )
        } else {
            format!("wave {i}: {done}/{} updated, {failed} failed", clusters.len())
        };
        lines.push(line);
    }
    lines
}

/// Runs a rollouts subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: RolloutsCommand) -> anyhow::Result<()> {
    match command {
        RolloutsCommand::Create {
            profile,
            selector,
            waves,
            failure_budget,
            window,
            skip_after_s,
            id,
        } => {
            let id = id.unwrap_or_else(|| format!("rollout-{}", actors::process_clock::system_wall_ms() / 1000));
            let selector: serde_json::Map<String, Value> =
                selector.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let body = json!({ "id": id, "profile": profile, "selector": selector, "waves": waves,
                               "failure_budget": failure_budget, "window": window, "skip_after_s": skip_after_s });
            let rollout = api.call("rollouts.create", body).await?;
            eprintln!(
                "rollout/{id} created: {} clusters in {} waves",
                counts(&rollout).1,
                rollout["waves"].as_array().map_or(0, Vec::len)
            );
            show(format, &rollout)
        }
        RolloutsCommand::Ls => show(format, &api.call("rollouts.list", json!({})).await?),
        RolloutsCommand::Get { id } => {
            let rollout = api.call("rollouts.get", json!({ "id": id })).await?;
            show(format, &rollout)?;
            if format == OutputFormat::Table {
                for line in wave_lines(&rollout, false) {
                    println!("{line}");
                }
            }
            Ok(())
        }
        RolloutsCommand::Pause { id } => show(format, &api.call("rollouts.pause", json!({ "id": id })).await?),
        RolloutsCommand::Resume { id } => show(format, &api.call("rollouts.resume", json!({ "id": id })).await?),
        RolloutsCommand::Abort { id } => show(format, &api.call("rollouts.abort", json!({ "id": id })).await?),
        RolloutsCommand::Watch { id } => {
            let terminal = std::io::stdout().is_terminal();
            let mut last = Vec::new();
            loop {
                let rollout = api.call("rollouts.get", json!({ "id": id })).await?;
                let mut lines = vec![format!(
                    "rollout/{id} {} → {}",
                    cell(&rollout["state"]),
                    cell(&rollout["profile"])
                )];
                lines.extend(wave_lines(&rollout, terminal));
                if lines != last {
                    if terminal && !last.is_empty() {
                        print!("\x1b[{}A", last.len()); // redraw in place
                    }
                    for line in &lines {
                        if terminal {
                            println!("{line}\x1b[K");
                        } else {
                            println!("{line}");
                        }
                    }
                    last = lines;
                }
                let state = rollout["state"].as_str().unwrap_or_default();
                if state == "complete" || state == "aborted" || state.starts_with("paused") {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
