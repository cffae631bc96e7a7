//! The `.eflog` file format for exported logs and checked-in fixtures (pure byte encoding; the file I/O lives in
//! `replay`).
//!
//! Layout: `b"EFLOG\x01"`, then per message a u32 little-endian length and the postcard-encoded [`LogRecord`].
//! Payload bytes are kept verbatim — a corrupt event stays corrupt in an export, so quarantine can be replayed too.

use serde::{Deserialize, Serialize};

/// Magic and format version at the start of every `.eflog` file.
pub const LOG_MAGIC: &[u8; 6] = b"EFLOG\x01";

/// One exported message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Subject it was published on.
    pub subject: String,
    /// Its `Nats-Msg-Id`, if it had one.
    pub msg_id: Option<String>,
    /// Sequence in the stream it was exported from.
    pub seq: u64,
    /// The message payload, verbatim.
    pub payload: Vec<u8>,
}

/// Why bytes are not a readable `.eflog`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogFormatError {
    /// The file does not start with the `.eflog` magic.
    #[error("not an edgefleet log file (bad magic)")]
    BadMagic,
    /// The file ends inside a record.
    #[error("log file truncated in record {index} at byte {offset}")]
    Truncated {
        /// Record number (0-based).
        index: usize,
        /// Byte offset of the record.
        offset: usize,
    },
    /// A record does not decode.
    #[error("log file record {index} at byte {offset} is corrupt: {reason}")]
    Corrupt {
        /// Record number (0-based).
        index: usize,
        /// Byte offset of the record.
        offset: usize,
        /// Decoder message.
        reason: String,
    },
}

/// Appends the file header to `out`.
pub fn write_header(out: &mut Vec<u8>) {
    out.extend_from_slice(LOG_MAGIC);
}

/// Appends one record to `out`.
pub fn write_record(out: &mut Vec<u8>, record: &LogRecord) {
    let body = match postcard::to_allocvec(record) {
        Ok(body) => body,
        Err(e) => unreachable!("log records are postcard-serializable: {e}"),
    };
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
}

/// Encodes a whole log.
pub fn encode_log(records: &[LogRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    write_header(&mut out);
    for record in records {
        write_record(&mut out, record);
    }
    out
}

/// Decodes a whole log.
pub fn decode_log(bytes: &[u8]) -> Result<Vec<LogRecord>, LogFormatError> {
    let rest = bytes
        .strip_prefix(LOG_MAGIC.as_slice())
        .ok_or(LogFormatError::BadMagic)?;
    let mut records = Vec::new();
    let mut offset = LOG_MAGIC.len();
    let mut rest = rest;
    while !rest.is_empty() {
        let index = records.len();
        let truncated = LogFormatError::Truncated { index, offset };
        let (len, tail) = rest.split_first_chunk::<4>().ok_or(truncated.clone())?;
        let len = u32::from_le_bytes(*len) as usize;
        let body = tail.get(..len).ok_or(truncated)?;
        let record = postcard::from_bytes(body).map_err(|e| LogFormatError::Corrupt {
            index,
            offset,
            reason: e.to_string(),
        })?;
        records.push(record);
        rest = &tail[len..];
        offset += 4 + len;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let records = vec![
            LogRecord {
                subject: "ef.site.s1.node.n1".into(),
                msg_id: Some("s1-x".into()),
                seq: 1,
                payload: vec![1, 2],
            },
            LogRecord {
                subject: "ef.intent.all.profile.p".into(),
                msg_id: None,
                seq: 2,
                payload: vec![],
            },
        ];
        assert_eq!(decode_log(&encode_log(&records)), Ok(records));
    }

    #[test]
    fn truncation_is_reported_not_panicked() {
        let records = vec![LogRecord {
            subject: "a".into(),
            msg_id: None,
            seq: 1,
            payload: vec![9; 10],
        }];
        let bytes = encode_log(&records);
        for cut in (0..bytes.len()).filter(|cut| *cut != LOG_MAGIC.len()) {
            assert!(decode_log(&bytes[..cut]).is_err(), "cut at {cut} must fail");
        }
    }
}
