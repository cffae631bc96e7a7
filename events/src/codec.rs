//! Wire format: `b"EF"`, schema version (u16 little-endian), then the postcard-encoded [`Envelope`].
//!
//! A decision that yields several events is one message, so no reader — at the origin or in a sourced copy — ever
//! sees half of it: `b"EF"`, [`DECISION_FRAME`], then the postcard-encoded envelopes, all of one aggregate and one
//! origin. (JetStream's atomic batch publish was measured and set aside: readers of the origin stream can see a
//! batch half stored, and sourced copies drop the batch headers; see docs/ARCHITECTURE.md.) A reader too old for
//! frames reports an unknown version and quarantines the message instead of misreading it.
//!
//! Decoding never panics: unknown versions, wrong magic, truncated or corrupt bytes and envelopes that break the
//! writer-domain rules all come back as a typed [`DecodeError`], so readers can quarantine the message and go on.

use crate::envelope::{Envelope, EnvelopeError};

/// Magic prefix of every encoded event.
pub const MAGIC: [u8; 2] = *b"EF";
/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u16 = 1;
/// The header tag of a decision frame: several envelopes of schema [`SCHEMA_VERSION`] in one message.
pub const DECISION_FRAME: u16 = 0x8001;
/// The most events one decision frame may hold.
pub const MAX_DECISION_EVENTS: usize = 1024;
const HEADER_LEN: usize = 4;

/// Why bytes are not a readable event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the header.
    #[error("truncated event: {0} bytes, need at least {HEADER_LEN}")]
    Truncated(usize),
    /// Not an edgefleet event.
    #[error("not an edgefleet event: bad magic {0:02x?}")]
    BadMagic([u8; 2]),
    /// Written by a newer (or unknown) schema; upgrade this reader.
    #[error("unknown schema version {found} (this build reads version {SCHEMA_VERSION}); upgrade edgefleet")]
    UnknownVersion {
        /// The version found in the header.
        found: u16,
    },
    /// The body does not decode as an envelope (corrupt bytes or an unknown payload variant).
    #[error("corrupt event body: {0}")]
    Corrupt(String),
    /// Bytes left after the envelope.
    #[error("corrupt event: {0} trailing bytes after the envelope")]
    TrailingBytes(usize),
    /// The envelope decodes but breaks the writer-domain rules.
    #[error("invalid event: {0}")]
    Invalid(#[from] EnvelopeError),
    /// A decision frame whose events are not one aggregate's from one origin, or that holds too few or too many.
    #[error("invalid decision: {0}")]
    InvalidDecision(String),
}

/// Encodes an envelope with the current schema header.
pub fn encode(envelope: &Envelope) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&SCHEMA_VERSION.to_le_bytes());
    // Serializing plain owned data into a Vec cannot fail; postcard errors only on unsupported serde shapes,
    // which the event types do not use (covered by the round-trip property test).
    match postcard::to_extend(envelope, out) {
        Ok(out) => out,
        Err(e) => unreachable!("event types are postcard-serializable: {e}"),
    }
}

/// Encodes the events of one decision as one message: a plain envelope for one event, a decision frame for more.
pub fn encode_decision(envelopes: &[Envelope]) -> Vec<u8> {
    match envelopes {
        [one] => encode(one),
        many => {
            let mut out = Vec::with_capacity(128 * many.len());
            out.extend_from_slice(&MAGIC);
            out.extend_from_slice(&DECISION_FRAME.to_le_bytes());
            match postcard::to_extend(many, out) {
                Ok(out) => out,
                Err(e) => unreachable!("event types are postcard-serializable: {e}"),
            }
        }
    }
}

/// Decodes and validates one event read from the log (a decision frame is refused: use [`decode_message`]).
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    let body = body_of(bytes, SCHEMA_VERSION)?;
    let envelope: Envelope = take_all(body)?;
    envelope.validate()?;
    Ok(envelope)
}

/// Decodes and validates one message read from the log: one event, or every event of one decision, in order.
pub fn decode_message(bytes: &[u8]) -> Result<Vec<Envelope>, DecodeError> {
    if bytes.len() >= HEADER_LEN && u16::from_le_bytes([bytes[2], bytes[3]]) == DECISION_FRAME {
        let body = body_of(bytes, DECISION_FRAME)?;
        let envelopes: Vec<Envelope> = take_all(body)?;
        check_decision(&envelopes)?;
        return Ok(envelopes);
    }
    decode(bytes).map(|envelope| vec![envelope])
}

fn check_decision(envelopes: &[Envelope]) -> Result<(), DecodeError> {
    if !(2..=MAX_DECISION_EVENTS).contains(&envelopes.len()) {
        return Err(DecodeError::InvalidDecision(format!(
            "{} events; a decision frame holds 2 to {MAX_DECISION_EVENTS}",
            envelopes.len()
        )));
    }
    let first = &envelopes[0];
    for envelope in envelopes {
        envelope.validate()?;
        if envelope.aggregate != first.aggregate || envelope.origin != first.origin {
            return Err(DecodeError::InvalidDecision(format!(
                "events of {} from {} and of {} from {} in one decision",
                first.aggregate, first.origin, envelope.aggregate, envelope.origin
            )));
        }
    }
    Ok(())
}

/// The bytes after a header that must carry `version`.
fn body_of(bytes: &[u8], version: u16) -> Result<&[u8], DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::Truncated(bytes.len()));
    }
    let magic = [bytes[0], bytes[1]];
    if magic != MAGIC {
        return Err(DecodeError::BadMagic(magic));
    }
    let found = u16::from_le_bytes([bytes[2], bytes[3]]);
    if found != version {
        return Err(DecodeError::UnknownVersion { found });
    }
    Ok(&bytes[HEADER_LEN..])
}

/// Decodes `body` as exactly one `T`.
fn take_all<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, DecodeError> {
    let (value, rest): (T, &[u8]) = postcard::take_from_bytes(body).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    Ok(value)
}
