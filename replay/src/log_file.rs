//! Export a stream to an `.eflog` file and import one into a server; fold a file in memory (fixtures).

use crate::message_decoder::decode_message;
use crate::quarantine::Quarantine;
use crate::stream_reader::{last_seq, read_range, ReadError};
use actors::fleet_state::FleetState;
use async_nats::jetstream::context::Context;
use async_nats::jetstream::message::PublishMessage;
use events::log_format::{decode_log, encode_log, LogFormatError, LogRecord};
use events::subject;
use std::path::Path;

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    /// Reading the stream failed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file could not be read or written.
    #[error("log file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid `.eflog`.
    #[error("log file {path}: {source}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        source: LogFormatError,
    },
    /// The stream does not exist.
    #[error("stream {0} does not exist")]
    NoStream(String),
    /// Publishing a record failed.
    #[error("importing record {index} ({subject}): {reason}")]
    Publish {
        /// Record number.
        index: usize,
        /// Its subject.
        subject: String,
        /// Server message.
        reason: String,
    },
}

/// Reads every message of `stream` into records.
pub async fn export_stream(js: &Context, stream: &str) -> Result<Vec<LogRecord>, LogFileError> {
    let last = last_seq(js, stream)
        .await?
        .ok_or_else(|| LogFileError::NoStream(stream.to_string()))?;
    let mut records = Vec::new();
    read_range(js, stream, None, 1, last, |m| {
        records.push(LogRecord {
            subject: m.subject.to_string(),
            msg_id: m.msg_id,
            seq: m.seq,
            payload: m.payload.to_vec(),
        })
    })
    .await?;
    Ok(records)
}

/// Writes records to `path` as an `.eflog` file.
pub fn write_log_file(path: &Path, records: &[LogRecord]) -> Result<(), LogFileError> {
    std::fs::write(path, encode_log(records)).map_err(|source| LogFileError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads an `.eflog` file.
pub fn read_log_file(path: &Path) -> Result<Vec<LogRecord>, LogFileError> {
    let bytes = std::fs::read(path).map_err(|source| LogFileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    decode_log(&bytes).map_err(|source| LogFileError::Format {
        path: path.display().to_string(),
        source,
    })
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records stored.
    pub stored: usize,
    /// Records the server already had (same message id).
    pub duplicates: usize,
}

/// Publishes records in order (keeping their message ids, so importing twice stores nothing new).
pub async fn import_records(js: &Context, records: &[LogRecord]) -> Result<ImportReport, LogFileError> {
    let mut report = ImportReport::default();
    for (index, record) in records.iter().enumerate() {
        let publish_failed = |reason: String| LogFileError::Publish {
            index,
            subject: record.subject.clone(),
            reason,
        };
        let mut message = PublishMessage::build().payload(record.payload.clone().into());
        if let Some(id) = &record.msg_id {
            message = message.message_id(id);
        }
        let ack = js
            .send_publish(record.subject.clone(), message)
            .await
            .map_err(|e| publish_failed(e.to_string()))?
            .await
            .map_err(|e| publish_failed(e.to_string()))?;
        if ack.duplicate {
            report.duplicates += 1;
        } else {
            report.stored += 1;
        }
    }
    Ok(report)
}

/// Folds records in memory, as if replayed from the streams their subjects belong to (used by fixture tests).
pub fn fold_records(records: &[LogRecord], quarantine: &Quarantine) -> FleetState {
    let mut fleet = FleetState::new();
    for record in records {
        let stream = match subject::parse(&record.subject) {
            Ok((writer, aggregate)) => subject::stream(writer, &aggregate).unwrap_or_else(|| "unknown".into()),
            Err(_) => "unknown".into(),
        };
        match decode_message(quarantine, &stream, record.seq, &record.subject, 0, &record.payload) {
            Some(events) => events.iter().for_each(|recorded| fleet.apply(recorded)),
            None => fleet.mark_scanned(&stream, record.seq),
        }
    }
    fleet
}
