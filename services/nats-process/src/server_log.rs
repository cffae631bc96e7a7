//! The server log `nats-server.log`: the process's stdout and stderr, plus one marker line per
//! start, stop and kill written here, so the file tells the whole story of the server across
//! restarts. Errors quote its last lines.
//!
//! This module only ever appends to and reads the log; it never truncates or rotates it.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

/// Lines of the server log quoted in an error.
const TAIL_LINES: usize = 30;

/// The log opened for appending (created if missing), with `marker` written first.
pub(crate) fn open_with_marker(path: &Path, marker: &str) -> std::io::Result<File> {
    let mut log = OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(log, "--- nats-process: {marker} ---")?;
    Ok(log)
}

/// Appends `marker` as a line of its own; a log that cannot be written is only warned about,
/// since the server itself is unaffected.
pub(crate) fn append_marker(path: &Path, marker: &str) {
    if let Err(error) = open_with_marker(path, marker) {
        tracing::warn!(log = ?path, %error, "cannot write to the nats-server log");
    }
}

/// The last lines of the log, or why it could not be read.
pub(crate) fn tail(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(log) => {
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
        }
        Err(error) => format!("(cannot read the log: {error})"),
    }
}

/// The log's size in bytes now (0 if it does not exist yet): where the next lines will start.
pub(crate) fn end_offset(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

/// What the log holds from byte `offset` on (invalid UTF-8 replaced), for looking at the lines
/// a process wrote after some moment.
pub(crate) fn read_from(path: &Path, offset: u64) -> std::io::Result<String> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut log = File::open(path)?;
    log.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    log.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
