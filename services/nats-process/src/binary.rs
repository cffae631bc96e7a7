//! Finding the nats-server binary to start.
//!
//! Lookup order: `$NATS_SERVER` (an explicit path, which must exist), the project tool dir
//! `.tools/bin/nats-server` (installed by `scripts/install-nats-server`; looked for in the current
//! directory and every directory above it, then in the executable's directory and every directory
//! above that), then `PATH`. Searching from the executable finds the tool dir of the checkout a
//! binary or test was built in, whatever the current directory is.
//! This module only looks at the file system; it never downloads or installs anything.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The file name of the binary, in the tool dir and on `PATH`.
const BINARY_NAME: &str = "nats-server";

/// Where `scripts/install-nats-server` puts the binary, relative to the repository root.
const TOOL_DIR_BINARY: &str = ".tools/bin/nats-server";

/// Why no nats-server binary could be found.
#[derive(thiserror::Error)]
pub enum NatsBinaryError {
    /// `NATS_SERVER` names a file that does not exist; an explicit choice is never silently ignored.
    #[error(
        "NATS_SERVER is set to {path:?}, but there is no file there: point it at a nats-server \
         binary, or unset it to use .tools/bin (scripts/install-nats-server) or PATH"
    )]
    EnvPathMissing {
        /// The value of `NATS_SERVER`.
        path: PathBuf,
    },
    /// Neither the tool dir nor `PATH` has a nats-server.
    #[error(
        "nats-server not found: set NATS_SERVER, or run scripts/install-nats-server \
         (installs into .tools/bin), or put nats-server on PATH"
    )]
    NotFound,
}

/// Debug shows the message, so a test or `main` that returns this error with `?` prints what
/// to do.
impl std::fmt::Debug for NatsBinaryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// The nats-server binary to start, from `$NATS_SERVER`, `.tools/bin` (above the current
/// directory, then above the executable) or `PATH`, in that order.
pub fn find_nats_server() -> Result<PathBuf, NatsBinaryError> {
    let mut start_dirs = Vec::new();
    if let Ok(current_dir) = std::env::current_dir() {
        start_dirs.push(current_dir);
    }
    let executable_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    start_dirs.extend(executable_dir);
    find_in(std::env::var_os("NATS_SERVER"), &start_dirs, std::env::var_os("PATH"))
}

/// The lookup of [`find_nats_server`] with its inputs passed in, so tests need not touch the
/// process environment: `env_value` is `$NATS_SERVER`, `.tools/bin/nats-server` is looked for in
/// `start_dir` and each of its ancestors, and `path_var` is `$PATH`.
///
/// An empty `env_value` counts as unset.
pub fn find_nats_server_in(
    env_value: Option<OsString>,
    start_dir: &Path,
    path_var: Option<OsString>,
) -> Result<PathBuf, NatsBinaryError> {
    find_in(env_value, &[start_dir.to_path_buf()], path_var)
}

fn find_in(
    env_value: Option<OsString>,
    start_dirs: &[PathBuf],
    path_var: Option<OsString>,
) -> Result<PathBuf, NatsBinaryError> {
    if let Some(value) = env_value.filter(|value| !value.is_empty()) {
        let path = PathBuf::from(value);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(NatsBinaryError::EnvPathMissing { path })
        };
    }
    let in_tool_dir = start_dirs
        .iter()
        .flat_map(|start_dir| start_dir.ancestors())
        .map(|dir| dir.join(TOOL_DIR_BINARY))
        .find(|candidate| is_executable_file(candidate));
    if let Some(path) = in_tool_dir {
        return Ok(path);
    }
    path_var
        .iter()
        .flat_map(std::env::split_paths)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(BINARY_NAME))
        .find(|candidate| is_executable_file(candidate))
        .ok_or(NatsBinaryError::NotFound)
}

/// True for a regular file (following symlinks) that someone may execute.
fn is_executable_file(path: &Path) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}
