//! `edgefleet logs --site S [--node N] [--since 10m] [--level warn] [-f] [-o json]`: the log lines of a site's
//! agents and site process as the hub holds them, oldest first; `-f` keeps reading on from the last page.

use super::api_client::HubApi;
use crate::api_types::requests::LogQuery;
use crate::api_types::views::{LogLineView, LogPage};
use crate::cli::{LogsArgs, OutputFormat};
use crate::output::rfc3339_ms;
use std::io::Write;
use std::time::Duration;

/// How often `-f` asks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Runs `edgefleet logs`.
pub async fn run(api: &HubApi, format: OutputFormat, args: LogsArgs) -> anyhow::Result<()> {
    let since = actors::process_clock::system_wall_ms() as i64 - args.since.as_millis() as i64;
    let mut after_seq = None;
    loop {
        let query = LogQuery {
            site: args.site.clone(),
            node: args.node.clone(),
            since_unix_ms: Some(since),
            level: args.level,
            after_seq,
            limit: None,
        };
        let page: LogPage = api.call("logs.list", &query).await?;
        let mut out = std::io::stdout().lock();
        for line in &page.lines {
            match format {
                OutputFormat::Json => writeln!(out, "{}", serde_json::to_string(line)?)?,
                OutputFormat::Yaml => write!(out, "---\n{}", serde_norway::to_string(line)?)?,
                OutputFormat::Table => writeln!(out, "{}", as_text(line))?,
            }
        }
        out.flush()?;
        if page.unreadable_batches > 0 {
            eprintln!(
                "{} log batches could not be read and were skipped",
                page.unreadable_batches
            );
        }
        let more = page.next_after_seq > after_seq.unwrap_or(0);
        after_seq = Some(page.next_after_seq.max(after_seq.unwrap_or(0)));
        if more {
            continue; // a full page: read on at once
        }
        if !args.follow {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// `2026-12-02T20:00:00.123Z WARN  n1 edgefleet::agent: message key=value …`
fn as_text(line: &LogLineView) -> String {
    let mut text = format!(
        "{} {:<5} {} {}: {}",
        rfc3339_ms(line.at_unix_ms.max(0) as u64),
        line.level.as_str().to_ascii_uppercase(),
        line.node,
        line.target,
        line.message
    );
    for (key, value) in &line.fields {
        text.push_str(&format!(" {key}={value}"));
    }
    text
}
