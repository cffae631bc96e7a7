//! Rebuilds a [`FleetState`] from whole streams: ordered consumer from each stream's high-water mark, decode,
//! apply; undecodable messages are quarantined and skipped.

use crate::message_decoder::decode_message;
use crate::quarantine::Quarantine;
use crate::stream_reader::{last_seq, read_range, ReadError};
use actors::fleet_state::FleetState;
use async_nats::jetstream::context::Context;
use std::time::{Duration, Instant};

/// What a rebuild did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// Messages read.
    pub messages: u64,
    /// Messages quarantined.
    pub quarantined: u64,
    /// Aggregates in the fleet afterwards.
    pub aggregates: usize,
    /// Wall time taken.
    pub elapsed: Duration,
}

/// Why a rebuild failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RebuildError {
    /// A stream could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Brings `fleet` up to date with `streams` (missing streams are skipped), reading from each stream's
/// high-water mark. Pass an empty fleet to rebuild from scratch, or one restored from snapshots to read the tail.
pub async fn rebuild_streams(
    js: &Context,
    streams: &[String],
    fleet: &mut FleetState,
    quarantine: &Quarantine,
) -> Result<RebuildReport, RebuildError> {
    let started = Instant::now();
    let mut report = RebuildReport::default();
    let quarantined_before = quarantine.hits();
    for stream in streams {
        let Some(last) = last_seq(js, stream).await? else {
            continue;
        };
        let from = fleet.high_water.get(stream).copied().unwrap_or(0);
        if last <= from {
            continue;
        }
        let highest = read_range(js, stream, None, from + 1, last, |m| {
            report.messages += 1;
            match decode_message(quarantine, stream, m.seq, &m.subject, m.stored_unix_ms, &m.payload) {
                Some(recorded) => fleet.apply(&recorded),
                None => fleet.mark_scanned(stream, m.seq),
            }
        })
        .await?;
        fleet.mark_scanned(stream, highest);
    }
    report.quarantined = quarantine.hits() - quarantined_before;
    report.aggregates = fleet.aggregates.len();
    report.elapsed = started.elapsed();
    Ok(report)
}
