//! [`apply()`]: carries out an [`ApplyPlan`] under a root directory (`/` on a machine, a temp dir in tests) and
//! records what was applied, so a restarted process knows its `previous` ([`load_applied`]). Never restarts k3s
//! itself: the plan's `restart` is the caller's to act on.
//!
//! Order makes a crash harmless: files are written (each atomically: temp file, fsync, rename, fsync of the
//! directory), then stale manifests removed, then the record written. A crash before the record leaves the old
//! record, and the next apply writes the same files again.

use crate::apply_plan::{is_owned_manifest, plan_apply, ApplyPlan};
use crate::render::Rendered;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// Where the last applied [`Rendered`] is recorded, as JSON, under the root.
pub const RECORD_PATH: &str = "/var/lib/edgefleet/k3s-rendered.json";

/// Mode of every file written: config.yaml names the token file and values may hold secrets; k3s runs as root.
const FILE_MODE: u32 = 0o600;

/// Why applying rendered files failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A rendered path is not absolute or climbs out of the root (`..`); nothing was written.
    #[error("refusing to write {path}: rendered paths must be absolute and stay under the root")]
    PathOutsideRoot {
        /// The path as rendered.
        path: PathBuf,
    },
    /// Writing a file (or its directory) failed.
    #[error("writing {path} failed: {source}; check the disk and the permissions of its directory")]
    Write {
        /// The file on disk.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// Removing a stale manifest failed.
    #[error("removing stale manifest {path} failed: {source}")]
    Remove {
        /// The file on disk.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The record of the last apply exists but cannot be read or parsed.
    #[error("the record of the last k3s files applied, {path}, cannot be read: {reason}; remove it to write every file again")]
    RecordUnreadable {
        /// The record on disk.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Applies `next` under `root`, `previous` being what was applied before (see [`load_applied`]); returns the plan
/// it carried out. All paths are checked before anything is written.
pub fn apply(root: &Path, previous: Option<&Rendered>, next: &Rendered) -> Result<ApplyPlan, ApplyError> {
    let plan = plan_apply(previous, next);
    let writes = plan
        .write
        .iter()
        .map(|path| Ok((under_root(root, path)?, &next.files[path])))
        .collect::<Result<Vec<_>, ApplyError>>()?;
    let removes = plan
        .remove
        .iter()
        .map(|path| {
            debug_assert!(is_owned_manifest(path));
            under_root(root, path)
        })
        .collect::<Result<Vec<_>, ApplyError>>()?;
    for (target, contents) in writes {
        write_atomically(&target, contents.as_bytes())?;
    }
    for target in removes {
        match fs::remove_file(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(ApplyError::Remove { path: target, source }),
        }
    }
    let record = record_path(root);
    let json = serde_json::to_vec_pretty(next).map_err(|e| ApplyError::Write {
        path: record.clone(),
        source: io::Error::other(e),
    })?;
    write_atomically(&record, &json)?;
    Ok(plan)
}

/// Removes what the last [`apply()`] under `root` wrote (config, manifests it owns, the token file it was given)
/// and its record: the machine leaves its cluster. Anything else k3s keeps (its data directory) stays.
/// Returns the files removed.
pub fn unapply(root: &Path, token_file: &Path) -> Result<Vec<PathBuf>, ApplyError> {
    let Some(previous) = load_applied(root)? else {
        return Ok(vec![]);
    };
    let mut removed = Vec::new();
    let owned = previous
        .files
        .keys()
        .filter(|p| p.as_path() == Path::new(crate::CONFIG_PATH) || is_owned_manifest(p))
        .cloned()
        .chain(std::iter::once(token_file.to_path_buf()));
    for path in owned {
        let target = under_root(root, &path)?;
        match fs::remove_file(&target) {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(ApplyError::Remove { path: target, source }),
        }
    }
    let record = record_path(root);
    fs::remove_file(&record)
        .or_else(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|source| ApplyError::Remove {
            path: record.clone(),
            source,
        })?;
    Ok(removed)
}

/// Writes a secret (the cluster token) to the absolute `path` under `root`, owner-only, atomically.
pub fn write_secret(root: &Path, path: &Path, contents: &str) -> Result<(), ApplyError> {
    write_atomically(&under_root(root, path)?, contents.as_bytes())
}

/// What the last [`apply()`] under `root` recorded; `None` when nothing was ever applied there.
pub fn load_applied(root: &Path) -> Result<Option<Rendered>, ApplyError> {
    let path = record_path(root);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ApplyError::RecordUnreadable {
                path,
                reason: e.to_string(),
            })
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ApplyError::RecordUnreadable {
            path,
            reason: format!("not a rendering recorded by k3s-render ({e})"),
        })
}

fn record_path(root: &Path) -> PathBuf {
    root.join(RECORD_PATH.trim_start_matches('/'))
}

/// `root` + the absolute `path`. (`Path::join` with an absolute path would replace the root instead.)
fn under_root(root: &Path, path: &Path) -> Result<PathBuf, ApplyError> {
    let mut components = path.components();
    let absolute = components.next() == Some(Component::RootDir);
    let plain = components.clone().all(|c| matches!(c, Component::Normal(_)));
    if !absolute || !plain || components.next().is_none() {
        return Err(ApplyError::PathOutsideRoot {
            path: path.to_path_buf(),
        });
    }
    Ok(root.join(path.components().skip(1).collect::<PathBuf>()))
}

/// Writes `contents` to `target` so that a reader sees the old file or the new one, never a part.
fn write_atomically(target: &Path, contents: &[u8]) -> Result<(), ApplyError> {
    let failed = |source: io::Error| ApplyError::Write {
        path: target.to_path_buf(),
        source,
    };
    let dir = target
        .parent()
        .ok_or_else(|| failed(io::Error::other("the path has no directory")))?;
    fs::create_dir_all(dir).map_err(failed)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".edgefleet-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(FILE_MODE))
        .tempfile_in(dir)
        .map_err(failed)?;
    temp.write_all(contents).map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist(target).map_err(|e| failed(e.error))?;
    // The rename is durable only once the directory is.
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_root() {
        let root = Path::new("/tmp/root");
        assert_eq!(
            under_root(root, Path::new("/etc/rancher/k3s/config.yaml")).unwrap(),
            Path::new("/tmp/root/etc/rancher/k3s/config.yaml")
        );
        for bad in ["etc/x", "/", "/etc/../x", ""] {
            assert!(under_root(root, Path::new(bad)).is_err(), "{bad}");
        }
    }
}
