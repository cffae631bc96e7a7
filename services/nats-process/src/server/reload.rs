//! Replacing a running server's auth config: [`NatsServer::set_auth_config`] and
//! [`NatsServer::reload`] (re-render `nats.conf`, SIGHUP, wait for the server's verdict in its log).
//!
//! Invariant: after `reload` returns, the stored auth config is one the server accepted — the
//! new one on success, the one still running on any failure — so a supervisor's `restart` never
//! starts a config the server refused.

use std::time::Duration;

use tokio::time::Instant;

use super::NatsServer;
use crate::auth_config::AuthConfig;
use crate::client_credentials::ClientCredentials;
use crate::error::NatsServerError;
use crate::reload_outcome::{reload_outcome, ReloadOutcome};
use crate::server_log;

/// How long a reload may take until the server logs whether it applied the new config.
const RELOAD_TIMEOUT_MS: u64 = 5_000;
/// Pause between two looks at the log while waiting for a reload's outcome.
const RELOAD_POLL_MS: u64 = 10;

/// What waiting for a reload came to.
enum ReloadWait {
    /// The server logged how the reload ended.
    Logged(ReloadOutcome),
    /// The process is gone.
    Exited,
    /// Nothing was logged in time.
    TimedOut,
}

impl NatsServer {
    /// Replaces the auth config (the verbatim top-level block of
    /// [`crate::NatsServerBuilder::auth_config`]) for the next [`Self::reload`] or
    /// [`Self::restart`]; the running process is unaffected until then.
    pub fn set_auth_config(&mut self, text: &str) {
        self.settings.auth_config = AuthConfig::new(text);
    }

    /// Replaces how the readiness probe and [`Self::connect`] authenticate (e.g. after the
    /// probe user's password was rotated by a reload); takes effect at the next connect.
    pub fn set_client_credentials(&mut self, credentials: ClientCredentials) {
        self.client_auth.credentials = credentials;
    }

    /// Applies the current settings (in practice the auth config of [`Self::set_auth_config`])
    /// to the running process: re-renders `nats.conf` with the same ports and everything else,
    /// sends SIGHUP, and returns once the server has logged that the new config is in effect.
    ///
    /// nats-server closes live connections of users the new config no longer has.
    ///
    /// If the server refuses the config ([`NatsServerError::ReloadRefused`], with its reason) it
    /// keeps serving with the old one, and so does this value: the stored auth config and
    /// `nats.conf` go back to the last accepted one. The same holds after a timeout or if the
    /// process dies meanwhile. A server that is not running is left alone
    /// ([`NatsServerError::NotRunning`]); [`Self::restart`] starts it with the current settings.
    ///
    /// Needs the server's log in `nats-server.log` (no `log_file` in the extra config).
    pub async fn reload(&mut self) -> Result<(), NatsServerError> {
        let name = self.settings.name.clone();
        let Some(pid) = self.running_pid() else {
            return Err(NatsServerError::NotRunning { name });
        };
        let log_path = self.log_path();
        server_log::append_marker(&log_path, "reloading the config (SIGHUP)");
        let log_offset = server_log::end_offset(&log_path);
        self.write_config()?;
        if let Err(source) = send_sighup(pid) {
            self.revert_auth_config();
            return Err(NatsServerError::Signal { name, source });
        }
        tracing::debug!(server = %name, pid, "nats-server signalled to reload its config");
        match self.wait_reload(log_offset).await {
            ReloadWait::Logged(ReloadOutcome::Applied) => {
                self.accepted_auth_config = self.settings.auth_config.clone();
                server_log::append_marker(&log_path, "new config in effect");
                tracing::info!(server = %name, "nats-server reloaded its config");
                Ok(())
            }
            ReloadWait::Logged(ReloadOutcome::Refused { reason }) => {
                self.revert_auth_config();
                server_log::append_marker(&log_path, "new config refused; nats.conf reverted");
                tracing::warn!(server = %name, %reason, "nats-server refused the new config");
                Err(NatsServerError::ReloadRefused { name, reason, log_path })
            }
            ReloadWait::Exited => {
                self.revert_auth_config();
                Err(NatsServerError::NotRunning { name })
            }
            ReloadWait::TimedOut => {
                self.revert_auth_config();
                server_log::append_marker(&log_path, "no reload outcome in time; nats.conf reverted");
                Err(NatsServerError::ReloadTimeout {
                    name,
                    timeout_ms: RELOAD_TIMEOUT_MS,
                    log_tail: server_log::tail(&log_path),
                    log_path,
                })
            }
        }
    }

    /// The pid if the process still runs (an exit is noticed and logged here).
    fn running_pid(&mut self) -> Option<u32> {
        if self.is_running() {
            self.pid()
        } else {
            None
        }
    }

    /// Waits for the reload outcome in the log lines written after `log_offset`.
    async fn wait_reload(&mut self, log_offset: u64) -> ReloadWait {
        let deadline = Instant::now() + Duration::from_millis(RELOAD_TIMEOUT_MS);
        let log_path = self.log_path();
        loop {
            match server_log::read_from(&log_path, log_offset) {
                Ok(written) => {
                    if let Some(outcome) = reload_outcome(&written) {
                        return ReloadWait::Logged(outcome);
                    }
                }
                Err(error) => tracing::warn!(log = ?log_path, %error, "cannot read the nats-server log"),
            }
            if !self.is_running() {
                return ReloadWait::Exited;
            }
            if Instant::now() >= deadline {
                return ReloadWait::TimedOut;
            }
            tokio::time::sleep(Duration::from_millis(RELOAD_POLL_MS)).await;
        }
    }

    /// Puts the auth config back to the one the process runs with, in the settings and in
    /// `nats.conf`, so neither names a config the server did not accept.
    fn revert_auth_config(&mut self) {
        self.settings.auth_config = self.accepted_auth_config.clone();
        if let Err(error) = self.write_config() {
            // The settings are what a restart renders from; a stale file is only cosmetic.
            tracing::warn!(server = %self.settings.name, %error, "cannot write back the accepted nats.conf");
        }
    }
}

/// Asks process `pid` to reload its config file.
#[cfg(unix)]
fn send_sighup(pid: u32) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::other(format!("pid {pid} out of range")))?;
    // SAFETY: kill(2) touches no memory of ours. `pid` is our own child, seen running just now
    // and not reaped (the server still holds it), so it cannot name another process.
    let sent = unsafe { libc::kill(pid, libc::SIGHUP) };
    if sent == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Without SIGHUP there is no way to ask nats-server to reload from here.
#[cfg(not(unix))]
fn send_sighup(_pid: u32) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "config reload needs SIGHUP (unix only)",
    ))
}
