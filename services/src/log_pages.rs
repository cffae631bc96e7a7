//! One page of a site's log lines (`ef.tel.<site>.<node>.logs` in `EF_TEL_<site>`), oldest first, read from
//! whichever copy of the site's telemetry stream a process holds: the hub's copy (`logs.list`) or the site's own
//! stream (a local reader's request while the hub is away). `after_seq` continues where a page ended (`-f`).

use crate::api_types::requests::LogQuery;
use crate::api_types::views::{LogLineView, LogPage};
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use events::subject::{parse_telemetry_subject, telemetry_stream, TelemetryChannel};
use futures::StreamExt;
use std::time::Duration;
use telemetry::LogBatch;

/// Lines per page unless asked otherwise, and at most.
const DEFAULT_LIMIT: u32 = 1_000;
const MAX_LIMIT: u32 = 5_000;
/// How long the read waits for the next batch before taking the page as complete.
const IDLE: Duration = Duration::from_secs(1);

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogPageError {
    /// The query cannot be answered as asked.
    #[error("{0}")]
    BadRequest(String),
    /// The stream could not be read now.
    #[error("reading {stream}: {reason}")]
    Unavailable {
        /// The stream.
        stream: String,
        /// What failed.
        reason: String,
    },
}

/// The page `request` asks for, from `js`'s copy of the site's telemetry stream.
pub async fn read_log_page(js: &async_nats::jetstream::Context, request: &LogQuery) -> Result<LogPage, LogPageError> {
    let stream = telemetry_stream(&request.site);
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
    let node = request.node.as_ref().map_or("*".to_string(), |n| n.to_string());
    let deliver_policy = match (request.after_seq, request.since_unix_ms) {
        (Some(after), _) => DeliverPolicy::ByStartSequence {
            start_sequence: after + 1,
        },
        (None, Some(since)) => DeliverPolicy::ByStartTime {
            start_time: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(since) * 1_000_000)
                .map_err(|e| LogPageError::BadRequest(format!("since_unix_ms {since}: {e}")))?,
        },
        (None, None) => DeliverPolicy::All,
    };
    let unavailable = |e: &dyn std::fmt::Display| LogPageError::Unavailable {
        stream: stream.clone(),
        reason: e.to_string(),
    };
    let mut page = LogPage {
        next_after_seq: request.after_seq.unwrap_or(0),
        ..LogPage::default()
    };
    let handle = js.get_stream_no_info(&stream).await.map_err(|e| unavailable(&e))?;
    let consumer = handle
        .create_consumer(OrderedConfig {
            filter_subject: format!("ef.tel.{}.{node}.logs", request.site),
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(|e| unavailable(&e))?;
    let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
    while page.lines.len() < limit {
        let message = match tokio::time::timeout(IDLE, messages.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => return Err(unavailable(&e)),
            Ok(None) | Err(_) => break,
        };
        let Ok(info) = message.info() else {
            continue;
        };
        let (seq, pending) = (info.stream_sequence, info.pending);
        page.next_after_seq = seq;
        let from = match parse_telemetry_subject(message.subject.as_str()) {
            Some((_, node, TelemetryChannel::Logs)) => node,
            _ => continue,
        };
        match LogBatch::decode(&message.payload) {
            Ok(batch) => page.lines.extend(
                batch
                    .lines
                    .into_iter()
                    .filter(|line| request.level.is_none_or(|level| line.level <= level))
                    .filter(|line| request.after_seq.is_some() || request.since_unix_ms.is_none_or(|s| line.at_ms >= s))
                    .map(|line| LogLineView {
                        node: from.to_string(),
                        at_unix_ms: line.at_ms,
                        level: line.level,
                        target: line.target,
                        message: line.message,
                        fields: line.fields,
                    }),
            ),
            Err(_) => page.unreadable_batches += 1,
        }
        if pending == 0 {
            break;
        }
    }
    Ok(page)
}
