//! [`FleetState`]: every aggregate of a replayed set of streams, keyed by aggregate — the plain-data fold a process
//! projection, a replay and the planners share. Pure: it applies what it is given and reads nothing.

use crate::{AnyAggregate, Positions, Recorded, Snapshot};
use events::AggregateRef;
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

/// The replayed state of many aggregates.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FleetState {
    /// Aggregates by identity.
    pub aggregates: BTreeMap<AggregateRef, AggregateEntry>,
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
        let aggregate = &recorded.envelope.aggregate;
        // Look up before inserting: most events are about an aggregate already known, and the key is cloned only
        // for a new one.
        if !self.aggregates.contains_key(aggregate) {
            let fresh = AggregateEntry {
                state: AnyAggregate::new(aggregate.kind),
                positions: Positions::default(),
                events: 0,
            };
            self.aggregates.insert(aggregate.clone(), fresh);
        }
        let Some(entry) = self.aggregates.get_mut(aggregate) else {
            return;
        };
        if recorded.seq > entry.positions.get(&recorded.stream) {
            // The decoder checked payload kind against aggregate kind, so this cannot mismatch.
            if let Err(e) = entry.state.apply(&recorded.envelope) {
                tracing::error!(stream = %recorded.stream, seq = recorded.seq, error = %e, "event not applied");
            }
            if recorded.last_in_message {
                entry.positions.advance(&recorded.stream, recorded.seq);
            }
            entry.events += 1;
        }
        if recorded.last_in_message {
            self.mark_scanned(&recorded.stream, recorded.seq);
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
            aggregates: BTreeMap::new(),
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
