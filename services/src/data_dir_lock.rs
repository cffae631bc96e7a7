//! One process per data dir: `edgefleet hub` and `edgefleet site` lock `<data-dir>/edgefleet.lock` before they
//! touch anything else there (config, nats-server, store), so a second process on the same dir fails at once and
//! changes nothing; an agent locks `<disk>.lock` the same way. The lock is the kernel's (flock): it goes away with
//! the process, however it ends.

use anyhow::Context;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;

/// Held while the process runs; dropping it releases the data dir.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Creates `dir` if needed and locks it; an error names the process holding it.
    pub fn acquire(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Self::lock(
            &dir.join("edgefleet.lock"),
            &format!("data dir {}", dir.display()),
            "--data-dir",
        )
    }

    /// Locks the lock file `path` (e.g. `<disk>.lock`); an error names the process holding it.
    pub fn acquire_file(path: &Path) -> anyhow::Result<Self> {
        Self::lock(path, &path.display().to_string(), "path")
    }

    fn lock(path: &Path, what: &str, flag: &str) -> anyhow::Result<Self> {
        let path = path.to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        if let Err(e) = file.try_lock() {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another process".to_string()
            } else {
                format!("process {holder}")
            };
            anyhow::bail!("{what} is in use by {who} ({e}); stop it first or choose another {flag}");
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = DataDirLock::acquire(dir.path()).expect("first lock");
        let second = DataDirLock::acquire(dir.path()).map(|_| ()).unwrap_err().to_string();
        assert!(second.contains("is in use by process"), "{second}");
        assert!(second.contains(&std::process::id().to_string()), "{second}");
        drop(first);
        DataDirLock::acquire(dir.path()).expect("free again once the holder is gone");
    }
}
