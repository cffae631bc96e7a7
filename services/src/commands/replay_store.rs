//! `edgefleet replay`: rebuild every aggregate from the streams into a local redb snapshot store; later runs read
//! snapshot + tail.

use crate::cli::{OutputFormat, ReplayArgs};
use anyhow::Context;
use futures::TryStreamExt;
use replay::{FleetState, LocalStore, Quarantine};
use serde::Serialize;
use std::process::ExitCode;

#[derive(Serialize)]
struct ReplaySummary {
    streams: Vec<String>,
    messages: u64,
    quarantined: u64,
    aggregates: usize,
    elapsed_ms: u128,
    from_snapshot: bool,
}

/// EF_INTENT and every EF_SITE_* stream on the server.
async fn event_streams(js: &async_nats::jetstream::Context) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = js.stream_names().try_collect().await.context("listing streams")?;
    names.retain(|n| n == events::subject::INTENT_STREAM || n.starts_with("EF_SITE_"));
    names.sort();
    Ok(names)
}

/// Replays into `--data-dir/local.redb` and prints what it did.
pub async fn run(
    hub: &crate::hub_connection::HubAddress,
    format: OutputFormat,
    args: ReplayArgs,
) -> anyhow::Result<ExitCode> {
    let js = hub.jetstream().await?;
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let store = LocalStore::open(&args.data_dir.join("local.redb"))?;
    let streams = if args.streams.is_empty() {
        event_streams(&js).await?
    } else {
        args.streams
    };
    let (mut fleet, complete) = FleetState::from_snapshots(store.all_snapshots()?, store.high_water()?);
    let from_snapshot = complete && !fleet.high_water.is_empty();
    if !complete {
        eprintln!("some snapshots are of an older layout: replaying from the start");
        fleet = FleetState::new();
    }
    let quarantine = Quarantine::persisted(store.clone());
    let report = replay::rebuild_streams(&js, &streams, &mut fleet, &quarantine).await?;
    store.save_batch(&fleet.snapshots(), &fleet.high_water)?;
    let summary = ReplaySummary {
        streams,
        messages: report.messages,
        quarantined: report.quarantined,
        aggregates: report.aggregates,
        elapsed_ms: report.elapsed.as_millis(),
        from_snapshot,
    };
    let rows = vec![vec![
        summary.streams.join(","),
        summary.messages.to_string(),
        summary.quarantined.to_string(),
        summary.aggregates.to_string(),
        summary.elapsed_ms.to_string(),
        if from_snapshot { "snapshot+tail" } else { "full" }.to_string(),
    ]];
    crate::output::print(
        format,
        &["STREAMS", "MESSAGES", "QUARANTINED", "AGGREGATES", "MS", "MODE"],
        &rows,
        &summary,
    )?;
    Ok(ExitCode::SUCCESS)
}
