//! Turns one stored JetStream message into a [`Recorded`] event, or quarantines it.

use crate::quarantine::{Quarantine, QuarantinedMessage};
use actors::Recorded;
use events::subject;

/// Decodes `payload` read from `stream` at `seq`; on failure records it in `quarantine` and returns `None`.
///
/// Beyond the codec's own checks, the event must sit on the subject its aggregate and writer belong on — a valid
/// event published on a foreign subject is as suspect as corrupt bytes.
pub fn decode_message(
    quarantine: &Quarantine,
    stream: &str,
    seq: u64,
    subject_str: &str,
    stored_unix_ms: u64,
    payload: &[u8],
) -> Option<Recorded> {
    let reason = match events::decode(payload) {
        Ok(envelope) => {
            if subject::is_subject_of(subject_str, envelope.origin.writer(), &envelope.aggregate) {
                return Some(Recorded {
                    stream: stream.to_string(),
                    seq,
                    stored_unix_ms,
                    envelope,
                });
            }
            format!(
                "event for {} from {} published on foreign subject",
                envelope.aggregate, envelope.origin
            )
        }
        Err(e) => e.to_string(),
    };
    quarantine.record(QuarantinedMessage::new(stream, seq, subject_str, reason, payload));
    None
}
