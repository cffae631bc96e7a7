//! [`LogBatch`]: structured log lines of one process (an agent, or the site process itself), as published on
//! `ef.tel.<site>.<node>.logs` and kept in the site's telemetry stream beside the metrics. The frame is `b"EL"`, a
//! little-endian format version, then a snappy block of postcard.

use crate::snappy_frame::{self, FrameError};
use serde::{Deserialize, Serialize};
use std::fmt;

const MAGIC: [u8; 2] = *b"EL";
/// The batch layout this build writes and reads.
pub const LOG_BATCH_VERSION: u16 = 1;
/// A batch that would decompress beyond this is refused unread.
const MAX_DECODED: usize = 8 * 1024 * 1024;

/// How severe a line is, most severe first (so `level <= Warn` means warn or worse).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something is wrong or degraded.
    Warn,
    /// What happened.
    Info,
    /// Detail for debugging.
    Debug,
    /// Finest detail.
    Trace,
}

impl LogLevel {
    /// `error`, `warn`, `info`, `debug`, `trace`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LogLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(LogLevel::Error),
            "warn" | "warning" => Ok(LogLevel::Warn),
            "info" => Ok(LogLevel::Info),
            "debug" => Ok(LogLevel::Debug),
            "trace" => Ok(LogLevel::Trace),
            other => Err(format!(
                "{other:?} is not a log level (error, warn, info, debug, trace)"
            )),
        }
    }
}

/// One structured log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When it was logged, ms since the epoch.
    pub at_ms: i64,
    /// Its level.
    pub level: LogLevel,
    /// The module that logged it (`edgefleet::site::planner`).
    pub target: String,
    /// The message.
    pub message: String,
    /// Its fields, in the order logged.
    pub fields: Vec<(String, String)>,
}

/// Log lines of one process, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBatch {
    /// The lines.
    pub lines: Vec<LogLine>,
}

/// Why bytes are not a log batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogBatchError {
    /// Fewer bytes than a header.
    #[error("log batch truncated: {0} bytes")]
    Truncated(usize),
    /// Not a log batch at all.
    #[error("not a log batch (magic {0:02x?})")]
    BadMagic([u8; 2]),
    /// Written by another build.
    #[error("log batch version {found} is unknown to this build (it reads {LOG_BATCH_VERSION})")]
    UnknownVersion {
        /// The version found.
        found: u16,
    },
    /// The body does not decode.
    #[error("log batch body: {0}")]
    Body(String),
}

impl LogBatch {
    /// The framed bytes.
    pub fn encode(&self) -> Result<Vec<u8>, LogBatchError> {
        snappy_frame::encode(MAGIC, LOG_BATCH_VERSION, self).map_err(from_frame)
    }

    /// A batch from framed bytes; anything else is a typed error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, LogBatchError> {
        snappy_frame::decode(bytes, MAGIC, LOG_BATCH_VERSION, MAX_DECODED).map_err(from_frame)
    }
}

fn from_frame(e: FrameError) -> LogBatchError {
    match e {
        FrameError::Truncated(n) => LogBatchError::Truncated(n),
        FrameError::BadMagic(magic) => LogBatchError::BadMagic(magic),
        FrameError::UnknownVersion(found) => LogBatchError::UnknownVersion { found },
        FrameError::Body(reason) => LogBatchError::Body(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn batch() -> LogBatch {
        LogBatch {
            lines: vec![LogLine {
                at_ms: 1_790_000_000_000,
                level: LogLevel::Warn,
                target: "edgefleet::agent".into(),
                message: "site controller unreachable; retrying".into(),
                fields: vec![("node".into(), "n1".into())],
            }],
        }
    }

    #[test]
    fn a_batch_reads_back_as_written() {
        let bytes = batch().encode().expect("encodes");
        assert_eq!(LogBatch::decode(&bytes), Ok(batch()));
        assert!(matches!(
            crate::MetricBatch::decode(&bytes),
            Err(crate::BatchError::BadMagic(_))
        ));
    }

    #[test]
    fn levels_order_by_severity_and_parse() {
        assert!(LogLevel::Error < LogLevel::Warn && LogLevel::Warn < LogLevel::Info);
        assert_eq!("WARNING".parse::<LogLevel>(), Ok(LogLevel::Warn));
        assert!("loud".parse::<LogLevel>().is_err());
    }

    proptest! {
        #[test]
        fn no_bytes_make_decode_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut framed = b"EL\x01\x00".to_vec();
            framed.extend_from_slice(&bytes);
            let _ = LogBatch::decode(&framed);
            let _ = LogBatch::decode(&bytes);
        }
    }
}
