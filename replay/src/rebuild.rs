//! Rebuilds a [`FleetState`] from whole streams: ordered consumer from each stream's high-water mark, decode,
//! apply; undecodable messages are quarantined and skipped.

use crate::message_decoder::decode_envelopes;
use crate::quarantine::Quarantine;
use crate::stream_reader::{last_seq, RangeReader, RawMessage, ReadError};
use actors::fleet_state::{FleetState, StoredAt};
use async_nats::jetstream::context::Context;
use std::collections::BTreeMap;
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
    /// The thread applying events stopped before the read was done (a bug: applying does not fail).
    #[error("applying replayed events stopped: {0}")]
    Applier(String),
}

/// Messages handed from the reading task to the applying thread at a time, and batches in flight between them:
/// enough that neither waits on the other while the server streams.
const BATCH: usize = 512;
const BATCHES_IN_FLIGHT: usize = 16;

/// Messages of one stream read in order; `read_through` closes the stream's range.
struct Batch {
    stream: String,
    messages: Vec<RawMessage>,
    read_through: Option<u64>,
}

/// Brings `fleet` up to date with `streams` (missing streams are skipped), reading from each stream's
/// high-water mark. Pass an empty fleet to rebuild from scratch, or one restored from snapshots to read the tail.
///
/// Decoding and applying run on a thread of their own while this task keeps receiving, so a replay costs little
/// more than the read itself (`edgefleet-bench`'s replay / raw figure).
pub async fn rebuild_streams(
    js: &Context,
    streams: &[String],
    fleet: &mut FleetState,
    quarantine: &Quarantine,
) -> Result<RebuildReport, RebuildError> {
    let started = Instant::now();
    let quarantined_before = quarantine.hits();
    let high_water = fleet.high_water.clone();
    let (batches, mut received) = tokio::sync::mpsc::channel::<Batch>(BATCHES_IN_FLIGHT);
    let applier = {
        let mut owned = std::mem::take(fleet);
        let quarantine = quarantine.clone();
        tokio::task::spawn_blocking(move || {
            let mut messages = 0u64;
            while let Some(batch) = received.blocking_recv() {
                messages += batch.messages.len() as u64;
                apply_batch(&mut owned, &quarantine, batch);
            }
            (owned, messages)
        })
    };
    let read = read_streams(js, streams, &high_water, &batches).await;
    drop(batches);
    let (owned, messages) = applier.await.map_err(|e| RebuildError::Applier(e.to_string()))?;
    *fleet = owned;
    read?;
    Ok(RebuildReport {
        messages,
        quarantined: quarantine.hits() - quarantined_before,
        aggregates: fleet.aggregates.len(),
        elapsed: started.elapsed(),
    })
}

async fn read_streams(
    js: &Context,
    streams: &[String],
    high_water: &BTreeMap<String, u64>,
    batches: &tokio::sync::mpsc::Sender<Batch>,
) -> Result<(), RebuildError> {
    let applier_gone = || RebuildError::Applier("the applying thread ended early".into());
    for stream in streams {
        let Some(last) = last_seq(js, stream).await? else {
            continue;
        };
        let from = high_water.get(stream).copied().unwrap_or(0);
        if last <= from {
            continue;
        }
        let mut reader = RangeReader::open(js, stream, None, from + 1, last).await?;
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(message) = reader.next().await? {
            batch.push(message);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                let send = Batch {
                    stream: stream.clone(),
                    messages: full,
                    read_through: None,
                };
                batches.send(send).await.map_err(|_| applier_gone())?;
            }
        }
        let last_batch = Batch {
            stream: stream.clone(),
            messages: batch,
            read_through: Some(reader.highest()),
        };
        batches.send(last_batch).await.map_err(|_| applier_gone())?;
    }
    Ok(())
}

/// Replay's per-message path: decodes the message stored in `stream` at `seq` and applies its events where they were
/// read (no [`actors::Recorded`] built per event), or quarantines it and moves past it.
pub fn apply_message(
    fleet: &mut FleetState,
    quarantine: &Quarantine,
    stream: &str,
    seq: u64,
    subject: &str,
    payload: &[u8],
) {
    match decode_envelopes(quarantine, stream, seq, subject, payload) {
        Some(envelopes) => {
            let count = envelopes.len();
            for (i, envelope) in envelopes.iter().enumerate() {
                let at = StoredAt {
                    stream,
                    seq,
                    last_in_message: i + 1 == count,
                };
                fleet.apply_at(at, envelope);
            }
        }
        None => fleet.mark_scanned(stream, seq),
    }
}

fn apply_batch(fleet: &mut FleetState, quarantine: &Quarantine, batch: Batch) {
    let stream = batch.stream.as_str();
    for m in batch.messages {
        apply_message(fleet, quarantine, stream, m.seq, &m.subject, &m.payload);
    }
    if let Some(highest) = batch.read_through {
        fleet.mark_scanned(stream, highest);
    }
}
