//! Waiting for SIGTERM or Ctrl-C, so long-running commands stop cleanly.

/// Returns when the process receives SIGTERM or SIGINT.
pub async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = term.recv() => {}
    }
    Ok(())
}
