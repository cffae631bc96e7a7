//! The event-log port: how actors read and append events without knowing it is JetStream.

use events::{AggregateRef, Envelope, Writer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;

/// Per stream, the last sequence of an aggregate's events applied so far.
///
/// An aggregate lives on one subject per writer domain; in the writer's own stream the position is therefore also
/// the `Nats-Expected-Last-Subject-Sequence` for the next append.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Positions(pub BTreeMap<String, u64>);

impl Positions {
    /// The last applied sequence in `stream` (0 = none).
    pub fn get(&self, stream: &str) -> u64 {
        self.0.get(stream).copied().unwrap_or(0)
    }

    /// Moves `stream` forward to `seq`; never moves back.
    pub fn advance(&mut self, stream: &str, seq: u64) {
        // Look up before inserting: replay calls this per event, and the key almost always exists.
        match self.0.get_mut(stream) {
            Some(entry) => *entry = (*entry).max(seq),
            None => {
                self.0.insert(stream.to_string(), seq);
            }
        }
    }
}

/// One event as read from the log, with where it was read.
///
/// The events of one decision share one message, so they share `seq`; all but the last of them have
/// `last_in_message: false`, and a reader moves its position to `seq` only after the last (a message is applied
/// whole, or — read again — skipped whole).
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// Stream it was read from.
    pub stream: String,
    /// The sequence of its message in that stream.
    pub seq: u64,
    /// Server time of the append, milliseconds since the epoch (0 when unknown).
    pub stored_unix_ms: u64,
    /// The event.
    pub envelope: Envelope,
    /// False for every event of a decision but its last.
    pub last_in_message: bool,
}

impl Recorded {
    /// The events of one message as read at `seq` of `stream`, in order.
    pub fn of_message(stream: &str, seq: u64, stored_unix_ms: u64, envelopes: Vec<Envelope>) -> Vec<Recorded> {
        let count = envelopes.len();
        envelopes
            .into_iter()
            .enumerate()
            .map(|(i, envelope)| Recorded {
                stream: stream.to_string(),
                seq,
                stored_unix_ms,
                envelope,
                last_in_message: i + 1 == count,
            })
            .collect()
    }
}

/// What a read returned: the decodable events, and how far each stream was scanned (quarantined messages
/// included), so positions move past messages that could not be decoded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tail {
    /// Decodable events, each stream in its own order.
    pub records: Vec<Recorded>,
    /// Highest sequence scanned per stream.
    pub scanned: Positions,
}

/// Why a log operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// Someone else appended to the aggregate first; reload and decide again.
    #[error("conflict on {subject}: expected last sequence {expected}, the log has moved on")]
    Conflict {
        /// The subject appended to.
        subject: String,
        /// What was expected.
        expected: u64,
    },
    /// The writer cannot write this aggregate (e.g. a site writing a fleet-wide aggregate).
    #[error("{writer:?} does not write {aggregate}")]
    NotWritable {
        /// The writer.
        writer: Writer,
        /// The aggregate.
        aggregate: AggregateRef,
    },
    /// The log is unreachable or timed out; the operation may be retried.
    #[error("event log unavailable: {0}")]
    Unavailable(String),
    /// The log refused the operation for another reason.
    #[error("event log refused: {0}")]
    Refused(String),
}

/// Reads and appends an aggregate's events.
pub trait EventLog: Clone + Send + Sync + Unpin + 'static {
    /// Every decodable event of `aggregate` after `after`, each stream in its own order. Undecodable messages are
    /// quarantined by the implementation, never returned and never dropped silently.
    fn read(&self, aggregate: &AggregateRef, after: &Positions) -> impl Future<Output = Result<Tail, LogError>> + Send;

    /// Appends `events` (all of `aggregate`, all from `writer`) in order, expecting the aggregate's last sequence in
    /// the writer's stream to be `expected_last` (0 = no event yet). Returns each event's `(stream, seq)`.
    /// A retried append of the same events is deduplicated by event id.
    fn append(
        &self,
        aggregate: &AggregateRef,
        writer: Writer,
        expected_last: u64,
        events: &[Envelope],
    ) -> impl Future<Output = Result<Vec<(String, u64)>, LogError>> + Send;
}
