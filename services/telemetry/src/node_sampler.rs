//! [`NodeSampler`]: one sample of a node's metrics, read from the real `/proc` and filesystems (`statvfs`).
//! The parsing is [`crate::proc_text`]'s; this is the I/O around it.

use crate::metric_batch::{MetricBatch, MetricPoint};
use crate::proc_text::{self, Mount};
use std::path::{Path, PathBuf};

/// A proc file and the parser of its text.
type ProcFile = (&'static str, fn(&str) -> Vec<MetricPoint>);

/// Reads a node's metrics from a proc filesystem.
#[derive(Clone, Debug)]
pub struct NodeSampler {
    proc_root: PathBuf,
}

/// What one sample read, and what it could not.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampled {
    /// The metrics.
    pub batch: MetricBatch,
    /// Files or filesystems that could not be read this time (`/proc/net/dev: …`), for the agent's log.
    pub unreadable: Vec<String>,
}

impl Default for NodeSampler {
    fn default() -> Self {
        Self::new("/proc")
    }
}

impl NodeSampler {
    /// A sampler of the proc filesystem at `proc_root` (`/proc` on a node).
    pub fn new(proc_root: impl Into<PathBuf>) -> Self {
        Self {
            proc_root: proc_root.into(),
        }
    }

    /// Samples now; `at_ms` stamps every point. A file that cannot be read leaves its metrics out of this sample and
    /// is named in [`Sampled::unreadable`].
    pub fn sample(&self, at_ms: i64) -> Sampled {
        let mut points = Vec::with_capacity(128);
        let mut unreadable = Vec::new();
        let parsers: [ProcFile; 5] = [
            ("loadavg", proc_text::loadavg),
            ("meminfo", proc_text::meminfo),
            ("stat", proc_text::stat),
            ("net/dev", proc_text::net_dev),
            ("uptime", proc_text::uptime),
        ];
        for (file, parse) in parsers {
            let path = self.proc_root.join(file);
            match std::fs::read_to_string(&path) {
                Ok(text) => points.extend(parse(&text)),
                Err(e) => unreadable.push(format!("{}: {e}", path.display())),
            }
        }
        let mounts_path = self.proc_root.join("self/mounts");
        match std::fs::read_to_string(&mounts_path) {
            Ok(text) => {
                for mount in proc_text::mounts(&text) {
                    match filesystem_points(&mount) {
                        Ok(found) => points.extend(found),
                        Err(e) => unreadable.push(format!("statvfs {}: {e}", mount.mountpoint)),
                    }
                }
            }
            Err(e) => unreadable.push(format!("{}: {e}", mounts_path.display())),
        }
        points.push(MetricPoint::gauge("node_time_seconds", at_ms as f64 / 1000.0));
        Sampled {
            batch: MetricBatch { at_ms, points },
            unreadable,
        }
    }
}

/// `node_filesystem_{size,free,avail}_bytes`, `node_filesystem_files{,_free}` and `node_filesystem_readonly`,
/// labelled `device`, `fstype`, `mountpoint`.
fn filesystem_points(mount: &Mount) -> std::io::Result<Vec<MetricPoint>> {
    let stats = statvfs(Path::new(&mount.mountpoint))?;
    let fragment = stats.f_frsize as f64;
    let values = [
        ("node_filesystem_size_bytes", stats.f_blocks as f64 * fragment),
        ("node_filesystem_free_bytes", stats.f_bfree as f64 * fragment),
        ("node_filesystem_avail_bytes", stats.f_bavail as f64 * fragment),
        ("node_filesystem_files", stats.f_files as f64),
        ("node_filesystem_files_free", stats.f_ffree as f64),
        ("node_filesystem_readonly", if mount.readonly { 1.0 } else { 0.0 }),
    ];
    Ok(values
        .into_iter()
        .map(|(name, value)| {
            MetricPoint::gauge(name, value)
                .with("device", &mount.device)
                .with("fstype", &mount.fstype)
                .with("mountpoint", &mount.mountpoint)
        })
        .collect())
}

fn statvfs(path: &Path) -> std::io::Result<libc::statvfs> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL byte in the path"))?;
    // SAFETY: `c_path` is a valid NUL-terminated string and `stats` a properly sized, writable out-parameter that
    // statvfs fills completely on success; it is read only when the call returned 0.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stats) };
    if rc == 0 {
        Ok(stats)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_of_this_machine_has_the_node_exporter_basics() {
        let sampled = NodeSampler::default().sample(1_790_000_000_000);
        assert!(sampled.unreadable.is_empty(), "{:?}", sampled.unreadable);
        let names: std::collections::BTreeSet<&str> = sampled.batch.points.iter().map(|p| p.name.as_str()).collect();
        for name in [
            "node_load1",
            "node_memory_MemAvailable_bytes",
            "node_cpu_seconds_total",
            "node_network_receive_bytes_total",
            "edgefleet_node_uptime_seconds",
            "node_time_seconds",
        ] {
            assert!(names.contains(name), "{name} missing from {names:?}");
        }
        let available = sampled
            .batch
            .points
            .iter()
            .find(|p| p.name == "node_memory_MemAvailable_bytes")
            .map(|p| p.value);
        assert!(available.is_some_and(|v| v > 0.0));
    }

    #[test]
    fn a_missing_proc_root_is_reported_not_fatal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sampled = NodeSampler::new(dir.path()).sample(0);
        assert_eq!(sampled.unreadable.len(), 6, "{:?}", sampled.unreadable);
        assert_eq!(sampled.batch.points.len(), 1, "only the clock");
    }
}
