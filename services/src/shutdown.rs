//! Waiting for the signals that end a long-running command — SIGTERM, SIGINT (Ctrl-C) and SIGHUP (the terminal
//! went away) — so it stops its work and its children cleanly instead of dying and leaving them behind.

use tokio::signal::unix::{signal, SignalKind};

/// Returns the name of the first of SIGTERM, SIGINT or SIGHUP the process receives.
pub async fn wait_for_signal() -> anyhow::Result<&'static str> {
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
        _ = hangup.recv() => "SIGHUP",
    })
}
