//! The k3s binary the machine's image ships, and whether it is the version a profile asks for. k3s does not
//! upgrade itself from its config: a profile naming another version needs another OS image, so a mismatch is
//! refused here rather than rendered and left to surprise.

use crate::k3s_version::is_k3s_version;
use crate::render_error::preview;
use events::profile::KubernetesLayer;
use std::io;
use std::path::PathBuf;
use std::process::Command;

/// Why the k3s binary's version could not be learned or does not fit.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    /// The binary could not be started.
    #[error("cannot run {path} --version: {source}; is k3s installed in the OS image at that path?")]
    NotRunnable {
        /// The binary.
        path: PathBuf,
        /// Why it did not start.
        source: io::Error,
    },
    /// The binary ran and failed.
    #[error("{path} --version failed ({status}): {stderr}")]
    Failed {
        /// The binary.
        path: PathBuf,
        /// Its exit status.
        status: String,
        /// The start of what it printed on stderr (bounded).
        stderr: String,
    },
    /// The binary printed something that is not `k3s version v… (…)`.
    #[error("{path} --version printed {first_line}, not `k3s version v1.31.4+k3s1 (…)`: is it k3s?")]
    UnexpectedOutput {
        /// The binary.
        path: PathBuf,
        /// Its first line of output (bounded).
        first_line: String,
    },
    /// The profile's Kubernetes layer is not k3s.
    #[error("the profile's Kubernetes distribution is {distro}, not k3s")]
    NotK3s {
        /// The distribution named (bounded).
        distro: String,
    },
    /// The profile asks for another k3s than the one installed.
    #[error("the profile asks for k3s {wanted} but the OS image ships k3s {installed}: k3s does not upgrade itself from its config; update the node's OS image to one with k3s {wanted} first")]
    VersionMismatch {
        /// What `k3s --version` printed.
        installed: String,
        /// What the profile asks for (bounded).
        wanted: String,
    },
}

/// A k3s binary on this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct K3sBinary {
    /// Its path, e.g. `/usr/local/bin/k3s`.
    pub path: PathBuf,
}

impl K3sBinary {
    /// Runs `<path> --version` and returns the version it reports (`v1.31.4+k3s1`). Blocks until it exits.
    pub fn version(&self) -> Result<String, BinaryError> {
        let output = Command::new(&self.path)
            .arg("--version")
            .output()
            .map_err(|source| BinaryError::NotRunnable {
                path: self.path.clone(),
                source,
            })?;
        if !output.status.success() {
            return Err(BinaryError::Failed {
                path: self.path.clone(),
                status: output.status.to_string(),
                stderr: preview(String::from_utf8_lossy(&output.stderr).trim()),
            });
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        parse_version_output(&stdout).ok_or_else(|| BinaryError::UnexpectedOutput {
            path: self.path.clone(),
            first_line: preview(stdout.lines().next().unwrap_or("")),
        })
    }

    /// Checks that this binary is the k3s `wanted` names.
    pub fn check_matches(&self, wanted: &KubernetesLayer) -> Result<(), BinaryError> {
        check_version(&self.version()?, wanted)
    }
}

/// The version in `k3s --version` output: its first line is `k3s version v1.31.4+k3s1 (a1b2c3d4)`.
pub fn parse_version_output(output: &str) -> Option<String> {
    let first_line = output.lines().next()?;
    let mut words = first_line.split_whitespace();
    let (Some("k3s"), Some("version"), Some(version)) = (words.next(), words.next(), words.next()) else {
        return None;
    };
    is_k3s_version(version).then(|| version.to_string())
}

/// Checks an installed k3s version (as [`parse_version_output`] returns it) against the profile's layer.
pub fn check_version(installed: &str, wanted: &KubernetesLayer) -> Result<(), BinaryError> {
    if wanted.distro != "k3s" {
        return Err(BinaryError::NotK3s {
            distro: preview(&wanted.distro),
        });
    }
    if installed != wanted.version {
        return Err(BinaryError::VersionMismatch {
            installed: installed.to_string(),
            wanted: if is_k3s_version(&wanted.version) {
                wanted.version.clone()
            } else {
                preview(&wanted.version)
            },
        });
    }
    Ok(())
}
