//! In-memory decode+apply on one core: the CPU cost of replay with the network taken away.
//!
//! Four passes over the same pre-encoded events, each into a fresh state:
//! - decode only (`events::decode`, which also validates the envelope);
//! - decode + `FleetState::apply`, the headline figure;
//! - decode + `AnyAggregate::apply` into a `HashMap` by aggregate: the state change alone, without replay's
//!   per-aggregate positions and per-stream high-water bookkeeping;
//! - replay's whole per-message path (`replay::rebuild::apply_message`: decode, subject check, then
//!   `FleetState::apply_at`): an upper bound for `rebuild_streams` when the consumer costs nothing.

use crate::workload::EncodedEvent;
use actors::{AnyAggregate, Recorded};
use anyhow::{bail, Context as _};
use events::AggregateRef;
use replay::{FleetState, Quarantine};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The times of the four passes.
pub struct DecodeApplyFigures {
    /// Events per pass.
    pub events: u64,
    /// Decode only.
    pub decode_only: Duration,
    /// Decode + apply.
    pub decode_apply: Duration,
    /// Decode + `AnyAggregate::apply` in a `HashMap`.
    pub decode_apply_lean: Duration,
    /// Replay's per-message path + apply.
    pub replay_path: Duration,
    /// Aggregates in the state after a pass (= nodes that had events).
    pub aggregates: usize,
}

/// Runs the four passes over `encoded` as if it were stream `stream` (sequence = index + 1), on this thread.
pub fn run(encoded: &[EncodedEvent], subjects: &[String], stream: &str) -> anyhow::Result<DecodeApplyFigures> {
    let started = Instant::now();
    for (i, event) in encoded.iter().enumerate() {
        let envelope =
            events::decode(black_box(&event.bytes)).with_context(|| format!("workload event {i} does not decode"))?;
        black_box(envelope);
    }
    let decode_only = started.elapsed();

    let mut fleet = FleetState::new();
    let started = Instant::now();
    for (i, event) in encoded.iter().enumerate() {
        let envelope =
            events::decode(black_box(&event.bytes)).with_context(|| format!("workload event {i} does not decode"))?;
        fleet.apply(&Recorded {
            stream: stream.to_string(),
            seq: i as u64 + 1,
            stored_unix_ms: 0,
            envelope,
            last_in_message: true,
        });
    }
    let decode_apply = started.elapsed();
    let aggregates = black_box(&fleet).aggregates.len();
    drop(fleet);

    let mut states: HashMap<AggregateRef, AnyAggregate> = HashMap::new();
    let started = Instant::now();
    for (i, event) in encoded.iter().enumerate() {
        let envelope =
            events::decode(black_box(&event.bytes)).with_context(|| format!("workload event {i} does not decode"))?;
        let state = match states.get_mut(&envelope.aggregate) {
            Some(state) => state,
            None => states
                .entry(envelope.aggregate.clone())
                .or_insert_with(|| AnyAggregate::new(envelope.aggregate.kind)),
        };
        state
            .apply(&envelope)
            .with_context(|| format!("workload event {i} does not apply"))?;
    }
    let decode_apply_lean = started.elapsed();
    debug_assert_eq!(black_box(&states).len(), aggregates);
    drop(states);

    let mut fleet = FleetState::new();
    let quarantine = Quarantine::in_memory();
    let started = Instant::now();
    for (i, event) in encoded.iter().enumerate() {
        let seq = i as u64 + 1;
        let subject = &subjects[event.node as usize];
        replay::rebuild::apply_message(&mut fleet, &quarantine, stream, seq, subject, black_box(&event.bytes));
    }
    let replay_path = started.elapsed();
    black_box(&fleet);
    if quarantine.hits() > 0 {
        bail!(
            "{} workload events were quarantined in memory: {:?}",
            quarantine.hits(),
            quarantine.entries().first()
        );
    }
    debug_assert_eq!(fleet.aggregates.len(), aggregates);

    Ok(DecodeApplyFigures {
        events: encoded.len() as u64,
        decode_only,
        decode_apply,
        decode_apply_lean,
        replay_path,
        aggregates,
    })
}
