//! Records as small JSON files (a site's, an operator user's): read whole, written whole and atomically.
//! Records hold public keys and times only, never a secret.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::atomic_file::{write_atomically, FileAccess};
use crate::error::{io_error, TrustError};

/// The record in `path`; `None` if there is no such file.
pub(crate) fn read_record<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, TrustError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error("read", path)(error)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|error| TrustError::Record {
            path: path.to_owned(),
            reason: error.to_string(),
        })
}

/// Writes `record` to `path` (pretty JSON, world-readable: it holds no secret).
pub(crate) fn write_record<T: Serialize>(path: &Path, record: &T) -> Result<(), TrustError> {
    let mut text = serde_json::to_string_pretty(record).map_err(|error| TrustError::Record {
        path: path.to_owned(),
        reason: error.to_string(),
    })?;
    text.push('\n');
    write_atomically(path, text.as_bytes(), FileAccess::WorldReadable).map_err(io_error("write", path))
}

/// Every record in `dir` (files ending `.json`), in file-name order; an absent directory holds none.
pub(crate) fn read_records<T: DeserializeOwned>(dir: &Path) -> Result<Vec<T>, TrustError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_error("read directory", dir)(error)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(io_error("read directory", dir))?.path();
        if path.extension().is_some_and(|extension| extension == "json") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut records = Vec::with_capacity(paths.len());
    for path in paths {
        records.extend(read_record(&path)?);
    }
    Ok(records)
}
