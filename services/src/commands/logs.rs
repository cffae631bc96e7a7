//! `edgefleet logs --site S [--node N] [--since 10m] [--level warn] [-f] [-o json]`: the log lines of a site's
//! agents and site process as the hub holds them, oldest first; `-f` keeps reading on from the last page. With
//! `--site-nats URL --reader-key FILE --site-ca FILE`, the same lines read at the site's own server as its local
//! reader, for when the hub is unreachable.

use super::api_client::HubApi;
use crate::api_types::requests::LogQuery;
use crate::api_types::views::{LocalLogsReply, LogLineView, LogPage};
use crate::cli::{LogsArgs, OutputFormat};
use crate::output::rfc3339_ms;
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// How often `-f` asks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// Runs `edgefleet logs` against the hub.
pub async fn run(api: &HubApi, format: OutputFormat, args: LogsArgs) -> anyhow::Result<()> {
    print_pages(format, &args, async |query: &LogQuery| {
        api.call("logs.list", query).await
    })
    .await
}

/// Runs `edgefleet logs --site-nats …` against the site's own server, as its local reader.
pub async fn at_site(format: OutputFormat, args: LogsArgs) -> anyhow::Result<ExitCode> {
    let (Some(url), Some(key), Some(ca)) = (&args.site_nats, &args.reader_key, &args.site_ca) else {
        anyhow::bail!("--site-nats needs --reader-key and --site-ca");
    };
    let seed = std::fs::read_to_string(key).with_context(|| format!("reading the reader key {}", key.display()))?;
    fleet_trust::UserKey::from_seed(&seed).with_context(|| format!("{} is not a user nkey seed", key.display()))?;
    let options = async_nats::ConnectOptions::new()
        .nkey(seed.trim().to_string())
        .custom_inbox_prefix(fleet_trust::LOCAL_READER_INBOX_PREFIX)
        .add_root_certificates(ca.clone())
        .require_tls(true)
        .name("edgefleet-logs-local");
    let client = tokio::time::timeout(Duration::from_secs(10), options.connect(url.as_str()))
        .await
        .with_context(|| format!("{url}: no answer within 10 s"))?
        .with_context(|| format!("connecting to the site's server at {url}"))?;
    let subject = fleet_trust::local_reader_subject(&args.site);
    let result = print_pages(format, &args, async |query: &LogQuery| {
        let body = serde_json::to_vec(query)?;
        let answer = tokio::time::timeout(Duration::from_secs(15), client.request(subject.clone(), body.into()))
            .await
            .with_context(|| format!("{subject}: the site did not answer within 15 s"))?
            .with_context(|| format!("{subject}: no answer; is this site {}'s server?", args.site))?;
        let reply: LocalLogsReply = serde_json::from_slice(&answer.payload)
            .with_context(|| format!("{subject}: the site's answer is not a log page"))?;
        match (reply.page, reply.error) {
            (Some(page), _) => Ok(page),
            (None, error) => anyhow::bail!("the site refused: {}", error.unwrap_or_default()),
        }
    })
    .await;
    result.map(|()| ExitCode::SUCCESS)
}

/// Prints every page `read` returns from `--since` on (and keeps reading with `-f`).
async fn print_pages(
    format: OutputFormat,
    args: &LogsArgs,
    read: impl AsyncFn(&LogQuery) -> anyhow::Result<LogPage>,
) -> anyhow::Result<()> {
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
        let page = read(&query).await?;
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
