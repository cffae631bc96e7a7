//! Reads the metric batches a telemetry stream (a site's own, or the hub's copy of it) holds for some nodes since a
//! time: what a rollout gate at the site and a node's recent samples at the hub are judged or drawn from.

use crate::MetricBatch;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::context::Context;
use events::subject::{parse_telemetry_subject, telemetry_subject, TelemetryChannel};
use events::Token;
use futures::StreamExt;
use std::time::Duration;

/// How long a read waits for the next batch before taking what it has.
const IDLE: Duration = Duration::from_secs(1);

/// Which batches to read.
#[derive(Debug, Clone)]
pub struct MetricWindow<'a> {
    /// The stream (`EF_TEL_<site>`).
    pub stream: &'a str,
    /// The site.
    pub site: &'a Token,
    /// Its nodes whose metrics are read.
    pub nodes: &'a [Token],
    /// Batches stored from this time on, ms since the epoch.
    pub stored_since_ms: u64,
    /// At most this many batches.
    pub max_batches: usize,
}

/// The batches of the window in stored order, each with its node. A batch that does not decode is skipped (the
/// telemetry path counts it where it is stored).
pub async fn read_metric_window(js: &Context, window: &MetricWindow<'_>) -> Result<Vec<(Token, MetricBatch)>, String> {
    if window.nodes.is_empty() {
        return Ok(vec![]);
    }
    let start_time = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(window.stored_since_ms) * 1_000_000)
        .map_err(|e| format!("window start {} ms: {e}", window.stored_since_ms))?;
    let handle = js.get_stream_no_info(window.stream).await.map_err(|e| e.to_string())?;
    let consumer = handle
        .create_consumer(OrderedConfig {
            filter_subjects: window
                .nodes
                .iter()
                .map(|node| telemetry_subject(window.site, node, TelemetryChannel::Metrics))
                .collect(),
            deliver_policy: DeliverPolicy::ByStartTime { start_time },
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    if consumer.cached_info().num_pending == 0 {
        return Ok(vec![]);
    }
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    let mut batches = Vec::new();
    for _ in 0..window.max_batches {
        let message = match tokio::time::timeout(IDLE, messages.next()).await {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(None) | Err(_) => break,
        };
        let pending = message.info().map(|i| i.pending).unwrap_or(0);
        if let Some((_, node, TelemetryChannel::Metrics)) = parse_telemetry_subject(message.subject.as_str()) {
            if let Ok(batch) = MetricBatch::decode(&message.payload) {
                batches.push((node, batch));
            }
        }
        if pending == 0 {
            break;
        }
    }
    Ok(batches)
}
