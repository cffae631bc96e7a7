//! `edgefleet quarantine ls|get`: what the hub could not read, and why.

use super::api_client::HubApi;
use super::tables::{or_dash, print_list, print_one, Column};
use crate::api_types::requests::{QuarantineFilter, QuarantineRef};
use crate::api_types::views::QuarantineView;
use crate::cli::{OutputFormat, QuarantineCommand};

const COLUMNS: &[Column<'static, QuarantineView>] = &[
    ("STREAM", &|q: &QuarantineView| q.stream.clone()),
    ("SEQ", &|q: &QuarantineView| q.seq.to_string()),
    ("SITE", &|q: &QuarantineView| or_dash(q.site.as_ref())),
    ("SUBJECT", &|q: &QuarantineView| q.subject.clone()),
    ("BYTES", &|q: &QuarantineView| q.size.to_string()),
    ("REASON", &|q: &QuarantineView| q.reason.clone()),
];

const DETAIL: &[Column<'static, QuarantineView>] = &[
    ("STREAM", &|q: &QuarantineView| q.stream.clone()),
    ("SEQ", &|q: &QuarantineView| q.seq.to_string()),
    ("REASON", &|q: &QuarantineView| q.reason.clone()),
    ("FIRST BYTES", &|q: &QuarantineView| q.first_bytes.clone()),
];

/// Runs a quarantine subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: QuarantineCommand) -> anyhow::Result<()> {
    match command {
        QuarantineCommand::Ls { site } => {
            let rows: Vec<QuarantineView> = api.call("quarantine.list", &QuarantineFilter { site }).await?;
            print_list(format, &rows, COLUMNS)
        }
        QuarantineCommand::Get { stream, seq } => {
            let row: QuarantineView = api.call("quarantine.get", &QuarantineRef { stream, seq }).await?;
            print_one(format, &row, DETAIL)
        }
    }
}
