//! Why a nats-server could not be started or reached: one variant per thing a caller can act on.

use std::path::PathBuf;
use std::process::ExitStatus;

use crate::binary::NatsBinaryError;

/// Why a nats-server could not be started or reached.
#[derive(thiserror::Error)]
pub enum NatsServerError {
    /// No binary to start.
    #[error(transparent)]
    Binary(#[from] NatsBinaryError),
    /// The server directory, config file or log file could not be written.
    #[error("cannot prepare {path:?} for nats-server: {source}")]
    Files {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The binary could not be executed.
    #[error("cannot run {binary:?}: {source}; reinstall with scripts/install-nats-server")]
    Spawn {
        /// The binary that was started.
        binary: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The process exited before it was ready (bad config, port taken, …).
    #[error(
        "nats-server {name:?} exited before it was ready ({status}) after {attempts} attempt(s); \
         see {log_path:?}, last lines:\n{log_tail}"
    )]
    Exited {
        /// The server name.
        name: String,
        /// How the process ended.
        status: ExitStatus,
        /// Starts tried (more than one when auto-chosen ports were taken).
        attempts: u32,
        /// The server log.
        log_path: PathBuf,
        /// The end of the server log.
        log_tail: String,
    },
    /// The process ran but did not answer `$JS.API.INFO` in time; it has been killed.
    #[error(
        "nats-server {name:?} was not ready within {timeout_ms} ms (last probe: {last_problem}); \
         see {log_path:?}, last lines:\n{log_tail}"
    )]
    NotReady {
        /// The server name.
        name: String,
        /// The deadline that passed.
        timeout_ms: u64,
        /// What the last readiness probe saw.
        last_problem: String,
        /// The server log.
        log_path: PathBuf,
        /// The end of the server log.
        log_tail: String,
    },
    /// The client credentials file of [`crate::ClientCredentials::CredsFile`] could not be read.
    #[error("cannot read the client credentials file {path:?}: {source}; check the path given to client_credentials")]
    Credentials {
        /// The `.creds` file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The server is not running (stopped, killed or crashed), so it cannot reload its config.
    #[error("nats-server {name:?} is not running: restart() it, which starts it with the current config")]
    NotRunning {
        /// The server name.
        name: String,
    },
    /// The reload signal (SIGHUP) could not be sent.
    #[error("cannot signal nats-server {name:?} to reload its config: {source}")]
    Signal {
        /// The server name.
        name: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The server refused the new config and keeps serving with the one it had; the stored
    /// auth config is back to that one, so a restart starts what was running.
    #[error("nats-server {name:?} refused the new config and keeps its old one: {reason}; see {log_path:?}")]
    ReloadRefused {
        /// The server name.
        name: String,
        /// What the server logged as the reason.
        reason: String,
        /// The server log.
        log_path: PathBuf,
    },
    /// The server logged neither success nor failure of a reload in time; the stored auth
    /// config is back to the last one the server accepted.
    #[error(
        "nats-server {name:?} did not report a config reload within {timeout_ms} ms; \
         see {log_path:?}, last lines:\n{log_tail}"
    )]
    ReloadTimeout {
        /// The server name.
        name: String,
        /// The deadline that passed.
        timeout_ms: u64,
        /// The server log.
        log_path: PathBuf,
        /// The end of the server log.
        log_tail: String,
    },
    /// A client could not connect to a server that was ready before.
    #[error("cannot connect to nats-server {name:?} at {url}: {source}")]
    Connect {
        /// The server name.
        name: String,
        /// The client URL.
        url: String,
        /// The underlying error.
        source: async_nats::ConnectError,
    },
}

/// Debug shows the message, so a test or `main` that returns this error with `?` prints the log
/// tail as lines instead of one escaped string.
impl std::fmt::Debug for NatsServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
