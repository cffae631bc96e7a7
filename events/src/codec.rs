//! Wire format: `b"EF"`, schema version (u16 little-endian), then the postcard-encoded [`Envelope`].
//!
//! Decoding never panics: unknown versions, wrong magic, truncated or corrupt bytes and envelopes that break the
//! writer-domain rules all come back as a typed [`DecodeError`], so readers can quarantine the message and go on.

use crate::envelope::{Envelope, EnvelopeError};

/// Magic prefix of every encoded event.
pub const MAGIC: [u8; 2] = *b"EF";
/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u16 = 1;
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

/// Decodes and validates bytes read from the log.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::Truncated(bytes.len()));
    }
    let magic = [bytes[0], bytes[1]];
    if magic != MAGIC {
        return Err(DecodeError::BadMagic(magic));
    }
    let found = u16::from_le_bytes([bytes[2], bytes[3]]);
    if found != SCHEMA_VERSION {
        return Err(DecodeError::UnknownVersion { found });
    }
    let (envelope, rest): (Envelope, &[u8]) =
        postcard::take_from_bytes(&bytes[HEADER_LEN..]).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    envelope.validate()?;
    Ok(envelope)
}
