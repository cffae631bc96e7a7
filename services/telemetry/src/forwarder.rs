//! One round of delivering a site's telemetry copy to one remote-write endpoint: plan the lanes from the cursor
//! ([`crate::forward_cursor::plan`]), read each lane's batches from the copy, write them, and move the cursor only
//! past what the endpoint took or refused for good. A write to retry leaves the cursor where it was, so the same
//! batches go again next round: nothing is given up while the copy holds it.
//!
//! A refused write is split in halves and each half sent again, down to single samples: Prometheus refuses a
//! whole request for one sample beyond its out-of-order window, and the others must not be lost with it.

use crate::batch_series::series_of;
use crate::copy_reader::{read_range, CopyReadError, ReadBatch};
use crate::forward_cursor::{plan, CopiedBatch, ForwardCursor, Lane};
use crate::http_client::HttpClient;
use crate::metric_batch::MetricBatch;
use crate::remote_write::{write, WriteOutcome};
use crate::telemetry_streams::{stream_state, TelemetryStreamError};
use crate::write_request::Series;
use async_nats::jetstream::context::Context;
use events::subject::{parse_telemetry_subject, telemetry_stream, TelemetryChannel};
use events::Token;
use std::collections::BTreeMap;
use std::time::Duration;
use url::Url;

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Batches whose samples were delivered or refused for good.
    pub batches: u64,
    /// Samples the endpoint stored.
    pub samples: u64,
    /// Samples it refused for good.
    pub refused: u64,
    /// Batches that are not metric batches (counted and skipped; named in the log).
    pub undecodable: u64,
    /// Why the round stopped early, to be retried (`None`: nothing left to retry).
    pub retry: Option<String>,
    /// Batches in the copy still to deliver after the round.
    pub backlog: u64,
}

/// Why a round could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    /// The copy could not be asked.
    #[error(transparent)]
    Stream(#[from] TelemetryStreamError),
    /// The copy could not be read.
    #[error(transparent)]
    Read(#[from] CopyReadError),
}

/// Delivers what `cursor` says is due from `site`'s telemetry copy (behind `js`) to `endpoint` through `client`.
pub async fn forward_round(
    js: &Context,
    site: &Token,
    client: &HttpClient,
    endpoint: &Url,
    cursor: &mut ForwardCursor,
    timeout: Duration,
) -> Result<RoundReport, ForwardError> {
    let stream = telemetry_stream(site);
    let mut report = RoundReport::default();
    let Some(state) = stream_state(js, &stream).await? else {
        return Ok(report);
    };
    if state.last_seq >= state.first_seq {
        cursor.copy_starts_at(state.first_seq);
    }
    for lane in plan(cursor, state.last_seq) {
        let (Lane::Live { from, to } | Lane::Backlog { from, to }) = lane;
        let read = read_range(js, &stream, from, to).await?;
        if let (Lane::Backlog { .. }, Some(first)) = (lane, read.first()) {
            // The copy's limit discarded the start of the range between the state read and this read: counted.
            cursor.copy_starts_at(first.copied.seq);
        }
        let (copied, series, undecodable) = decode(site, &read);
        report.undecodable += undecodable;
        match write_bisecting(client, endpoint, series, timeout).await {
            Ok((samples, refused)) => {
                report.batches += copied.len() as u64;
                report.samples += samples;
                report.refused += refused;
                match lane {
                    Lane::Live { .. } => cursor.live_delivered(&copied, samples, refused),
                    Lane::Backlog { .. } => cursor.backlog_delivered(&copied, samples, refused),
                }
            }
            Err(reason) => {
                report.retry = Some(reason);
                break;
            }
        }
    }
    report.backlog = cursor.backlog(state.last_seq);
    Ok(report)
}

/// The batches read, with their sample times, and the series they make, per node; plus how many were not metric
/// batches (logged and skipped: a batch the site accepted was checked there, so this means damage on the way).
fn decode(site: &Token, read: &[ReadBatch]) -> (Vec<CopiedBatch>, Vec<Series>, u64) {
    let mut copied = Vec::with_capacity(read.len());
    let mut by_node: BTreeMap<String, Vec<MetricBatch>> = BTreeMap::new();
    let mut undecodable = 0;
    for batch in read {
        let mut entry = batch.copied.clone();
        let node = match parse_telemetry_subject(&batch.subject) {
            Some((subject_site, node, TelemetryChannel::Metrics)) if &subject_site == site => Some(node),
            _ => None,
        };
        match (node, MetricBatch::decode(&batch.payload)) {
            (Some(node), Ok(decoded)) => {
                entry.at_ms = decoded.at_ms;
                by_node.entry(node.to_string()).or_default().push(decoded);
            }
            (None, _) => {} // another channel (logs): not for remote-write
            (Some(node), Err(e)) => {
                undecodable += 1;
                tracing::warn!(%site, %node, seq = batch.copied.seq, error = %e, "telemetry batch skipped: not a metric batch");
            }
        }
        copied.push(entry);
    }
    let series = by_node
        .iter()
        .flat_map(|(node, batches)| series_of(site.as_str(), node, batches))
        .collect();
    (copied, series, undecodable)
}

/// Writes `series`, splitting a refused write until the refused samples are alone. Returns (stored, refused), or
/// why to retry.
async fn write_bisecting(
    client: &HttpClient,
    endpoint: &Url,
    series: Vec<Series>,
    timeout: Duration,
) -> Result<(u64, u64), String> {
    let (mut stored, mut refused) = (0u64, 0u64);
    let mut parts = vec![series];
    while let Some(part) = parts.pop() {
        let samples: u64 = part.iter().map(|s| s.samples.len() as u64).sum();
        if samples == 0 {
            continue;
        }
        match write(client, endpoint, &part, timeout).await {
            WriteOutcome::Accepted => stored += samples,
            WriteOutcome::Retry { reason } => return Err(reason),
            WriteOutcome::Refused { status, reason } if samples == 1 => {
                tracing::warn!(%endpoint, status, %reason, series = ?part[0].labels, "sample refused for good; counted");
                refused += 1;
            }
            WriteOutcome::Refused { .. } => {
                let (a, b) = halves(part);
                parts.push(b);
                parts.push(a);
            }
        }
    }
    Ok((stored, refused))
}

/// Two halves of a write: by series, or by samples of its one series.
fn halves(mut part: Vec<Series>) -> (Vec<Series>, Vec<Series>) {
    if part.len() > 1 {
        let b = part.split_off(part.len() / 2);
        return (part, b);
    }
    let Some(mut one) = part.pop() else {
        return (Vec::new(), Vec::new());
    };
    let later = one.samples.split_off(one.samples.len() / 2);
    let other = Series {
        labels: one.labels.clone(),
        samples: later,
    };
    (vec![one], vec![other])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_splits_by_series_then_by_samples() {
        let mut one = Series::new("a", &[]);
        one.samples = vec![(1, 1.0), (2, 2.0), (3, 3.0)];
        let two = Series::new("b", &[]);
        let (a, b) = halves(vec![one.clone(), two]);
        assert_eq!((a.len(), b.len()), (1, 1));
        let (a, b) = halves(vec![one]);
        assert_eq!(a[0].samples, vec![(1, 1.0)]);
        assert_eq!(b[0].samples, vec![(2, 2.0), (3, 3.0)]);
        assert_eq!(b[0].labels, a[0].labels);
    }
}
