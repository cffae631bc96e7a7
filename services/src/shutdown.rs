//! The signals that end a long-running command — SIGTERM, SIGINT (Ctrl-C) and SIGHUP (the terminal went away) —
//! so it stops its work and its children cleanly instead of dying and leaving them behind. Listen first thing, so
//! a signal is caught at any moment, even during start-up.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Listening for SIGTERM, SIGINT and SIGHUP from the moment it was made.
pub struct ShutdownSignals {
    term: Signal,
    interrupt: Signal,
    hangup: Signal,
}

impl ShutdownSignals {
    /// Starts listening (from here on these signals no longer end the process by themselves).
    pub fn listen() -> anyhow::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Returns the name of the first of SIGTERM, SIGINT or SIGHUP received since listening started.
    pub async fn wait(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.hangup.recv() => "SIGHUP",
        }
    }
}
