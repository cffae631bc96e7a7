//! [`fleet_at`]: the fleet as the log held it at a past instant — every event whose time is at or before it,
//! replayed from the start of each stream into a fresh [`FleetState`]. For dry runs against history ("what would
//! this placement have decided last Tuesday"); it reads whole streams, so it is for occasional questions, not for a
//! projection. A decision's events go in together or not at all; undecodable messages are quarantined and skipped.

use crate::message_decoder::decode_envelopes;
use crate::quarantine::Quarantine;
use crate::stream_homes::StreamHomes;
use crate::stream_reader::{last_seq, RangeReader, ReadError};
use actors::fleet_state::{FleetState, StoredAt};

/// The fleet of `streams` (each read where `homes` says it lives; missing streams are skipped) as of `at_unix_ms`.
pub async fn fleet_at(
    homes: &StreamHomes,
    streams: &[String],
    at_unix_ms: u64,
    quarantine: &Quarantine,
) -> Result<FleetState, ReadError> {
    let mut fleet = FleetState::new();
    for stream in streams {
        let js = homes.of(stream);
        let Some(last) = last_seq(&js, stream).await? else {
            continue;
        };
        let mut reader = RangeReader::open(&js, stream, None, 1, last).await?;
        while let Some(message) = reader.next().await? {
            let Some(envelopes) = decode_envelopes(quarantine, stream, message.seq, &message.subject, &message.payload)
            else {
                continue;
            };
            // One decision is one message: its first event's time speaks for all of them.
            if envelopes.first().is_none_or(|e| e.hlc.physical_ms > at_unix_ms) {
                continue;
            }
            let count = envelopes.len();
            for (i, envelope) in envelopes.iter().enumerate() {
                let at = StoredAt {
                    stream,
                    seq: message.seq,
                    last_in_message: i + 1 == count,
                };
                fleet.apply_at(at, envelope);
            }
        }
    }
    Ok(fleet)
}
