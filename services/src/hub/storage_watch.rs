//! The hub's JetStream store running out of space, and coming back.
//!
//! Measured on nats-server 2.15.1 (see docs/ARCHITECTURE.md): a write that hits ENOSPC gets no reply at all (the
//! client only sees its ack time out), the server logs `… write <file>: no space left on device`, and JetStream
//! stays enabled while that stream stays broken — even after space returns — until JetStream restarts. So the hub
//! watches the server's log and the store's free space: while the disk is full, API writes answer
//! `disk full at <store dir>` (507) instead of a timeout; once more than a third of the store's size is free again
//! (what a restarted JetStream needs to accept writes), the hub restarts its nats-server — once — and writing
//! resumes without anyone stepping in.

use std::cell::{Cell, RefCell};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

/// What the server logs when a write hits a full disk.
const NO_SPACE: &str = "no space left on device";
/// Free space below which the store counts as full whatever the log says.
const FULL_BELOW_BYTES: u64 = 64 * 1024;
/// Extra free space wanted beyond a third of the store before restarting.
const RESTART_MARGIN_BYTES: u64 = 4 * 1024 * 1024;

/// Whether the hub's store is out of space.
pub struct StorageWatch {
    store_dir: PathBuf,
    log_path: PathBuf,
    log_offset: Cell<u64>,
    /// Set from the first ENOSPC in the log until the server was restarted with space.
    full: Cell<bool>,
    restart: RefCell<Option<crate::server_supervisor::ServerControl>>,
}

impl StorageWatch {
    /// Watches the store at `store_dir` through the server log at `log_path`; `restart` asks the supervisor to
    /// restart the server (`None` for an external server the hub does not run).
    pub fn new(
        store_dir: PathBuf,
        log_path: PathBuf,
        restart: Option<crate::server_supervisor::ServerControl>,
    ) -> Self {
        let log_offset = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        Self {
            store_dir,
            log_path,
            log_offset: Cell::new(log_offset),
            full: Cell::new(false),
            restart: RefCell::new(restart),
        }
    }

    /// `disk full at <store dir>` while the store is out of space.
    pub fn disk_full(&self) -> Option<String> {
        if self.store_dir.as_os_str().is_empty() {
            return None;
        }
        let nearly_no_space = free_bytes(&self.store_dir).is_some_and(|free| free < FULL_BELOW_BYTES);
        (self.full.get() || nearly_no_space).then(|| format!("disk full at {}", self.store_dir.display()))
    }

    /// Reads what the server logged since the last look; true if it hit a full disk.
    fn logged_no_space(&self) -> bool {
        let Ok(mut file) = std::fs::File::open(&self.log_path) else {
            return false;
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let from = if len < self.log_offset.get() {
            0
        } else {
            self.log_offset.get()
        };
        let mut text = String::new();
        if file.seek(SeekFrom::Start(from)).is_err() || file.read_to_string(&mut text).is_err() {
            return false;
        }
        self.log_offset.set(len);
        text.contains(NO_SPACE)
    }

    fn check(&self) {
        // The server's log may live on the full disk too, so the free space alone also counts.
        let nearly_no_space = free_bytes(&self.store_dir).is_some_and(|free| free < FULL_BELOW_BYTES);
        if (self.logged_no_space() || nearly_no_space) && !self.full.get() {
            self.full.set(true);
            tracing::error!(
                store = %self.store_dir.display(),
                "disk full at {}: writes fail until space is freed",
                self.store_dir.display()
            );
        }
        if !self.full.get() {
            return;
        }
        let (Some(free), used) = (free_bytes(&self.store_dir), dir_bytes(&self.store_dir)) else {
            return;
        };
        let wanted = used / 3 + RESTART_MARGIN_BYTES;
        if free > wanted {
            tracing::warn!(
                free,
                used,
                "space is back on the store; restarting the nats-server so JetStream writes again"
            );
            if let Some(server) = self.restart.borrow().as_ref() {
                server.restart();
            }
            self.full.set(false);
        }
    }
}

/// Checks the store once a second until aborted.
pub async fn watch(storage: Rc<StorageWatch>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        storage.check();
    }
}

/// Bytes available to unprivileged writers on the file system holding `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c_path` is a valid NUL-terminated string and `stat` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    (rc == 0).then(|| (stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

/// Total size of the files below `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&entry.path()),
            Ok(_) => entry.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}
