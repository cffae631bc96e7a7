//! Unit-test support for the modules that write files: a path in a fresh temporary directory, and a file's mode.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// `<fresh temp dir>/<name>` (not created); the directory lives as long as the returned [`TempDir`].
pub(crate) fn temp_path(name: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

/// The permission bits of `path` (e.g. `0o600`).
pub(crate) fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
