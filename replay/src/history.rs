//! An aggregate's history across both writer streams, and its state at a point of that history (time travel).
//!
//! The history merges the hub's and the site's events by hybrid-logical time while keeping each stream's own
//! order; by the convergence invariant any such merge yields the same state, so `state_at` is well defined.

use crate::jetstream_log::JetStreamLog;
use actors::{AnyAggregate, EventLog, LogError, Positions, Recorded};
use events::AggregateRef;
use serde::Serialize;

/// One event of an aggregate's history.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// 1-based position in the merged history (what `--at SEQ` refers to).
    pub number: usize,
    /// Stream it was read from.
    pub stream: String,
    /// Sequence in that stream.
    pub seq: u64,
    /// Server time of the append.
    pub stored_unix_ms: u64,
    /// The event.
    #[serde(skip)]
    pub recorded: Recorded,
}

/// A point in an aggregate's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// After the first N events of the merged history.
    Seq(usize),
    /// After every event whose hybrid-logical time is at or before this many ms since the epoch.
    UnixMs(u64),
}

/// Why a history could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// Merges per-stream ordered records by HLC (then event id), keeping each stream's order.
pub fn merge_by_time(records: Vec<Recorded>) -> Vec<Recorded> {
    let mut lanes: Vec<std::collections::VecDeque<Recorded>> = Vec::new();
    for r in records {
        match lanes
            .iter_mut()
            .find(|lane| lane.front().is_some_and(|f| f.stream == r.stream))
        {
            Some(lane) => lane.push_back(r),
            None => lanes.push(std::collections::VecDeque::from([r])),
        }
    }
    let mut merged = Vec::new();
    loop {
        let next = lanes
            .iter()
            .enumerate()
            .filter_map(|(i, lane)| lane.front().map(|r| (i, (r.envelope.hlc, r.envelope.id))))
            .min_by_key(|(_, key)| *key)
            .map(|(i, _)| i);
        let Some(lane) = next else { break };
        // The events of one decision (one message) stay together.
        while let Some(r) = lanes[lane].pop_front() {
            let last = r.last_in_message;
            merged.push(r);
            if last {
                break;
            }
        }
    }
    merged
}

/// The whole history of `aggregate`, merged across writer streams.
pub async fn history(log: &JetStreamLog, aggregate: &AggregateRef) -> Result<Vec<HistoryEntry>, HistoryError> {
    let tail = log.read(aggregate, &Positions::default()).await?;
    Ok(merge_by_time(tail.records)
        .into_iter()
        .enumerate()
        .map(|(i, recorded)| HistoryEntry {
            number: i + 1,
            stream: recorded.stream.clone(),
            seq: recorded.seq,
            stored_unix_ms: recorded.stored_unix_ms,
            recorded,
        })
        .collect())
}

/// The aggregate's state at `at`, folded from its history.
pub fn state_at(aggregate: &AggregateRef, history: &[HistoryEntry], at: At) -> AnyAggregate {
    let mut state = AnyAggregate::new(aggregate.kind);
    // A decision is never shown half applied: once one of its events is in, the rest of its message is too.
    let mut finishing: Option<(&str, u64)> = None;
    for entry in history {
        let rest_of_decision = finishing == Some((entry.recorded.stream.as_str(), entry.recorded.seq));
        let include = rest_of_decision
            || match at {
                At::Seq(n) => entry.number <= n,
                At::UnixMs(ms) => entry.recorded.envelope.hlc.physical_ms <= ms,
            };
        if !include {
            break;
        }
        if let Err(e) = state.apply(&entry.recorded.envelope) {
            tracing::error!(error = %e, "history event not applied");
        }
        finishing = (!entry.recorded.last_in_message).then_some((entry.recorded.stream.as_str(), entry.recorded.seq));
    }
    state
}
