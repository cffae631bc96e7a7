//! Running iproute2's `ip` for the LAN: where the binary is, whether this process may use it, failures as
//! [`LanError`]s naming the command and its stderr — and the one place that signals processes: emptying a
//! network namespace with SIGKILL.

use super::LanError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where `ip` is looked for after `PATH` (root's tools live in sbin, which a non-login `PATH` may lack).
const IP_FALLBACK_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Capability bits a LAN needs: interfaces, addresses and routes need CAP_NET_ADMIN; `ip netns add` mounts the
/// namespace file, which needs CAP_SYS_ADMIN.
const REQUIRED_CAPABILITIES: [(u32, &str); 2] = [(12, "CAP_NET_ADMIN"), (21, "CAP_SYS_ADMIN")];

/// How long [`kill_all_in`] waits for SIGKILLed processes to leave a namespace.
const KILL_WAIT_MS: u64 = 5_000;

/// Pause between two looks at a namespace that is being emptied.
const KILL_POLL_MS: u64 = 5;

/// The `ip` binary, looked up once per process.
fn ip_binary() -> Result<&'static Path, LanError> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND.get_or_init(find_ip).as_deref().ok_or(LanError::IpNotFound)
}

fn find_ip() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(IP_FALLBACK_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join("ip"))
        .find(|candidate| candidate.is_file())
}

/// Fails with [`LanError::NotPrivileged`] unless this process holds CAP_NET_ADMIN and CAP_SYS_ADMIN (root does).
/// Checked up front so a test run without root fails with that reason, not with the first `ip` error.
pub(super) fn require_privileges() -> Result<(), LanError> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    let missing: Vec<&str> = REQUIRED_CAPABILITIES
        .iter()
        .filter(|(bit, _)| effective & (1 << bit) == 0)
        .map(|(_, name)| *name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(LanError::NotPrivileged {
            missing: missing.join(" and "),
        })
    }
}

/// Runs `ip <command_line>` (words split at whitespace: every name and address of a LAN is one word) and returns
/// its stdout; a failure names the command line and carries its stderr.
pub(super) fn ip(command_line: &str) -> Result<String, LanError> {
    let command = format!("ip {command_line}");
    let output = Command::new(ip_binary()?)
        .args(command_line.split_whitespace())
        .stdin(Stdio::null())
        .output()
        .map_err(|source| LanError::Spawn {
            command: command.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(LanError::CommandFailed {
            command,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// True when `error` says the namespace or interface is not there (anymore): removing it again is done, not failed.
pub(super) fn is_already_gone(error: &LanError) -> bool {
    matches!(error, LanError::CommandFailed { stderr, .. }
        if stderr.contains("Cannot find device") || stderr.contains("No such file or directory"))
}

/// The processes whose network namespace is `netns` (this process excluded: it is never a machine's).
pub(super) fn pids_in(netns: &str) -> Result<Vec<u32>, LanError> {
    let own_pid = std::process::id();
    Ok(ip(&format!("netns pids {netns}"))?
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .filter(|pid| *pid != own_pid)
        .collect())
}

/// SIGKILLs every process in `netns` until none is left (a killed process that its parent has not reaped yet no
/// longer counts: a zombie has left its namespaces).
pub(super) fn kill_all_in(netns: &str) -> Result<(), LanError> {
    let started = Instant::now();
    loop {
        let pids = pids_in(netns)?;
        if pids.is_empty() {
            return Ok(());
        }
        let waited_ms = started.elapsed().as_millis() as u64;
        if waited_ms >= KILL_WAIT_MS {
            return Err(LanError::ProcessesSurvived {
                netns: netns.to_string(),
                pids,
                waited_ms,
            });
        }
        for pid in pids {
            sigkill(pid);
        }
        std::thread::sleep(Duration::from_millis(KILL_POLL_MS));
    }
}

fn sigkill(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    debug_assert!(pid > 1, "a namespace listing never names init or a process group");
    // SAFETY: kill(2) touches no memory of ours. The pid was listed in the namespace a moment ago; pids are handed
    // out in increasing order, so it cannot have been reused by an unrelated process within these milliseconds.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}
