//! Turns one stored JetStream message into a [`Recorded`] event, or quarantines it.

use crate::quarantine::{Quarantine, QuarantinedMessage};
use actors::Recorded;
use events::{subject, Envelope};

/// Decodes `payload` read from `stream` at `seq` into its events (one, or every event of one decision); on failure
/// records it in `quarantine` and returns `None`.
///
/// Beyond the codec's own checks, the events must sit on the subject their aggregate and writer belong on — a valid
/// event published on a foreign subject is as suspect as corrupt bytes.
pub fn decode_message(
    quarantine: &Quarantine,
    stream: &str,
    seq: u64,
    subject_str: &str,
    stored_unix_ms: u64,
    payload: &[u8],
) -> Option<Vec<Recorded>> {
    decode_envelopes(quarantine, stream, seq, subject_str, payload)
        .map(|envelopes| Recorded::of_message(stream, seq, stored_unix_ms, envelopes))
}

/// As [`decode_message`], the envelopes alone (for bulk readers, which apply them where they were read).
pub fn decode_envelopes(
    quarantine: &Quarantine,
    stream: &str,
    seq: u64,
    subject_str: &str,
    payload: &[u8],
) -> Option<Vec<Envelope>> {
    let reason = match events::decode_message(payload) {
        Ok(envelopes) => match envelopes.first() {
            // A frame holds one aggregate's events from one origin (checked by the codec), so the first speaks
            // for all.
            Some(first) if subject::is_subject_of(subject_str, first.origin.writer(), &first.aggregate) => {
                return Some(envelopes);
            }
            Some(first) => format!(
                "event for {} from {} published on foreign subject",
                first.aggregate, first.origin
            ),
            None => "a message without events".to_string(),
        },
        Err(e) => e.to_string(),
    };
    quarantine.record(QuarantinedMessage::new(stream, seq, subject_str, reason, payload));
    None
}
