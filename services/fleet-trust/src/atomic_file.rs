//! Writing trust material to disk: whole files, atomically (temp file + rename), with the mode the content needs.
//!
//! Secrets (seeds, `.creds`, TLS private keys) are written `0600` from the first byte on: the temp file is created
//! with that mode, so no other user can ever read a partly written secret. This module never reads files and never
//! logs their content.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Who may read a file we write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileAccess {
    /// Only the owner (`0600`): seeds, `.creds`, private keys.
    OwnerOnly,
    /// Everyone may read (`0644`): JWTs and certificates, which are public by design.
    WorldReadable,
}

impl FileAccess {
    #[cfg(unix)]
    fn mode(self) -> u32 {
        match self {
            FileAccess::OwnerOnly => 0o600,
            FileAccess::WorldReadable => 0o644,
        }
    }
}

/// Writes `contents` to `path` atomically with `access`, creating parent directories.
pub(crate) fn write_atomically(path: &Path, contents: &[u8], access: FileAccess) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut temp_name = path.file_name().unwrap_or_default().to_os_string();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = write_new_file(&temp, contents, access).and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        // Best effort: a leftover temp file holds nothing the final file would not.
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Creates `path` (replacing a stale temp file) with `access` and writes `contents`, synced to disk.
fn write_new_file(path: &Path, contents: &[u8], access: FileAccess) -> io::Result<()> {
    let _ = fs::remove_file(path);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(access.mode());
    }
    #[cfg(not(unix))]
    let _ = access;
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::test_files::{mode, temp_path};

    #[test]
    fn a_secret_is_written_owner_only_and_replaces_the_old_content() {
        let (_dir, path) = temp_path("deep/er/secret.nk");

        write_atomically(&path, b"first", FileAccess::OwnerOnly).unwrap();
        write_atomically(&path, b"second", FileAccess::OwnerOnly).unwrap();

        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(mode(&path), 0o600);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn a_public_file_is_world_readable() {
        let (_dir, path) = temp_path("operator.jwt");

        write_atomically(&path, b"jwt", FileAccess::WorldReadable).unwrap();

        assert_eq!(mode(&path), 0o644);
    }
}
