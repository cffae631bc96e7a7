//! Ending a nats-server process: gracefully (SIGTERM, a bounded wait, then SIGKILL) or at once
//! (SIGKILL). Either way the process is reaped before the call returns, so no zombie and no
//! stray server outlives it. This module only signals the child it is handed.

use std::process::Child;
use std::time::{Duration, Instant};

/// How long [`terminate`] waits after SIGTERM before it sends SIGKILL.
pub(crate) const STOP_TIMEOUT_MS: u64 = 5_000;
/// Pause between two checks whether a stopping process has exited.
const STOP_POLL_MS: u64 = 10;

/// SIGTERM, then SIGKILL if `child` has not exited within 5 s; returns what happened, for the
/// server log. Blocks the calling thread meanwhile.
pub(crate) fn terminate(name: &str, child: &mut Child) -> String {
    if let Ok(None) = child.try_wait() {
        if let Err(error) = send_sigterm(child) {
            tracing::warn!(server = %name, %error, "cannot send SIGTERM to nats-server");
        }
    }
    let deadline = Instant::now() + Duration::from_millis(STOP_TIMEOUT_MS);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return format!("stopped ({status})"),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(STOP_POLL_MS));
            }
            Ok(None) => {
                tracing::warn!(
                    server = %name, timeout_ms = STOP_TIMEOUT_MS,
                    "nats-server ignored SIGTERM, killing it"
                );
                kill(name, child);
                return format!("not stopped {STOP_TIMEOUT_MS} ms after SIGTERM; killed (SIGKILL)");
            }
            Err(error) => {
                tracing::warn!(server = %name, %error, "cannot poll nats-server, killing it");
                kill(name, child);
                return "killed (SIGKILL) after a failed poll".to_owned();
            }
        }
    }
}

/// SIGKILL (a no-op for a process that already exited), then wait for the exit.
pub(crate) fn kill(name: &str, child: &mut Child) {
    if let Err(error) = child.kill() {
        tracing::warn!(server = %name, %error, "cannot kill nats-server");
    }
    if let Err(error) = child.wait() {
        tracing::warn!(server = %name, %error, "cannot reap nats-server");
    }
}

/// Asks `child` to shut down: SIGTERM on unix, where nats-server then exits cleanly.
#[cfg(unix)]
fn send_sigterm(child: &mut Child) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| std::io::Error::other(format!("pid {} out of range", child.id())))?;
    // SAFETY: kill(2) touches no memory of ours. `pid` is our own child and has not been reaped
    // (we hold `child`, and `try_wait` just saw it running), so it cannot name another process.
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    if sent == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Without SIGTERM, the only way to stop a process is to kill it.
#[cfg(not(unix))]
fn send_sigterm(child: &mut Child) -> std::io::Result<()> {
    child.kill()
}
