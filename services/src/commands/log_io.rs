//! `edgefleet export` / `edgefleet import`: streams to and from `.eflog` files.

use crate::cli::{ExportArgs, ImportArgs};
use std::process::ExitCode;

/// Writes every message of a stream to a file, payload bytes verbatim.
pub async fn export(hub: &crate::hub_connection::HubAddress, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let js = hub.jetstream().await?;
    let records = replay::export_stream(&js, &args.stream).await?;
    replay::write_log_file(&args.file, &records)?;
    eprintln!(
        "exported {} message(s) of {} to {}",
        records.len(),
        args.stream,
        args.file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Publishes a file's messages in order with their message ids (a second import stores nothing).
pub async fn import(hub: &crate::hub_connection::HubAddress, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let js = hub.jetstream().await?;
    let records = replay::read_log_file(&args.file)?;
    let report = replay::import_records(&js, &records).await?;
    eprintln!(
        "imported {}: {} stored, {} already present",
        args.file.display(),
        report.stored,
        report.duplicates
    );
    Ok(ExitCode::SUCCESS)
}
