//! [`FleetState`]: every aggregate of a replayed set of streams, keyed by aggregate — the plain-data fold a process
//! projection, a replay and the planners share. Pure: it applies what it is given and reads nothing.

use crate::aggregate_table::AggregateTable;
use crate::{AnyAggregate, Positions, Recorded, Snapshot};
use events::{AggregateRef, Envelope};
use serde::Serialize;
use std::collections::BTreeMap;

/// One replayed aggregate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AggregateEntry {
    /// Its state.
    pub state: AnyAggregate,
    /// Last applied sequence per stream.
    pub positions: Positions,
    /// Events applied.
    pub events: u64,
}

/// Where an event was read: its stream, its message's sequence, and whether it ends that message.
#[derive(Clone, Copy, Debug)]
pub struct StoredAt<'a> {
    /// The stream.
    pub stream: &'a str,
    /// The message's sequence in it.
    pub seq: u64,
    /// False for every event of a multi-event decision but its last.
    pub last_in_message: bool,
}

impl AggregateEntry {
    /// Applies one event unless its sequence was already applied (duplicate delivery).
    fn apply(&mut self, at: StoredAt<'_>, envelope: &Envelope) {
        if at.seq <= self.positions.get(at.stream) {
            return;
        }
        // The decoder checked payload kind against aggregate kind, so this cannot mismatch.
        if let Err(e) = self.state.apply(envelope) {
            tracing::error!(stream = %at.stream, seq = at.seq, error = %e, "event not applied");
        }
        if at.last_in_message {
            self.positions.advance(at.stream, at.seq);
        }
        self.events += 1;
    }
}

/// The replayed state of many aggregates.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FleetState {
    /// Aggregates by identity.
    pub aggregates: AggregateTable,
    /// Highest sequence applied per stream.
    pub high_water: BTreeMap<String, u64>,
}

impl FleetState {
    /// An empty fleet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one recorded event; a sequence already applied for its aggregate is skipped (duplicate delivery).
    pub fn apply(&mut self, recorded: &Recorded) {
        let at = StoredAt {
            stream: &recorded.stream,
            seq: recorded.seq,
            last_in_message: recorded.last_in_message,
        };
        self.apply_at(at, &recorded.envelope);
    }

    /// As [`Self::apply`], for an event read at `at` (a bulk reader's way: no [`Recorded`] built per event).
    pub fn apply_at(&mut self, at: StoredAt<'_>, envelope: &Envelope) {
        let aggregate = &envelope.aggregate;
        // One search on the common path (an aggregate already known); the key is cloned only for a new one.
        match self.aggregates.get_mut(aggregate) {
            Some(entry) => entry.apply(at, envelope),
            None => {
                let mut fresh = AggregateEntry {
                    state: AnyAggregate::new(aggregate.kind),
                    positions: Positions::default(),
                    events: 0,
                };
                fresh.apply(at, envelope);
                self.aggregates.insert(aggregate.clone(), fresh);
            }
        }
        if at.last_in_message {
            self.mark_scanned(at.stream, at.seq);
        }
    }

    /// Records that `stream` was read through `seq` (also past quarantined messages).
    pub fn mark_scanned(&mut self, stream: &str, seq: u64) {
        match self.high_water.get_mut(stream) {
            Some(mark) => *mark = (*mark).max(seq),
            None => {
                self.high_water.insert(stream.to_string(), seq);
            }
        }
    }

    /// The state of one aggregate.
    pub fn get(&self, aggregate: &AggregateRef) -> Option<&AnyAggregate> {
        self.aggregates.get(aggregate).map(|e| &e.state)
    }

    /// Snapshots of every aggregate (for a snapshot store's batch save).
    pub fn snapshots(&self) -> Vec<(AggregateRef, Snapshot)> {
        self.aggregates
            .iter()
            .map(|(aggregate, entry)| {
                let (state_version, state) = entry.state.encode_state();
                (
                    aggregate.clone(),
                    Snapshot {
                        state_version,
                        state,
                        positions: entry.positions.clone(),
                    },
                )
            })
            .collect()
    }

    /// A fleet restored from snapshots and high-water marks; aggregates whose snapshot is of an older layout are
    /// left out, so the caller must replay from 0 if any was dropped (`complete` is then false).
    pub fn from_snapshots(snapshots: Vec<(AggregateRef, Snapshot)>, high_water: BTreeMap<String, u64>) -> (Self, bool) {
        let mut fleet = FleetState {
            aggregates: AggregateTable::new(),
            high_water,
        };
        let mut complete = true;
        for (aggregate, snapshot) in snapshots {
            match AnyAggregate::decode_state(aggregate.kind, snapshot.state_version, &snapshot.state) {
                Some(state) => {
                    fleet.aggregates.insert(
                        aggregate,
                        AggregateEntry {
                            state,
                            positions: snapshot.positions,
                            events: 0,
                        },
                    );
                }
                None => complete = false,
            }
        }
        (fleet, complete)
    }
}
