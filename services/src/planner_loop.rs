//! The thin loop around a pure planner: wait for something to change (the projection, an observation, or the
//! clock), plan, carry the plan out, wait until the projection shows what was written, and plan again. The loop
//! remembers nothing a restart would need; a plan interrupted halfway is simply planned again.

use replay::Projection;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long a pass waits for the projection to show its own writes before planning again anyway.
const READ_YOUR_WRITES: Duration = Duration::from_secs(2);

/// Runs `pass` whenever the projection changes, `wake` is notified, or `tick` passes. `pass` returns the
/// `(stream, seq)` positions it wrote. Runs until aborted.
pub async fn run<F, Fut>(projection: Arc<Projection>, wake: Arc<Notify>, tick: Duration, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Vec<(String, u64)>>,
{
    let mut changes = projection.changes();
    loop {
        let written = pass().await;
        if !written.is_empty() {
            if !projection.wait_for(&written, READ_YOUR_WRITES).await {
                tracing::warn!(positions = ?written, "projection did not show this pass's writes in time");
            }
            continue;
        }
        tokio::select! {
            _ = changes.changed() => {}
            _ = wake.notified() => {}
            _ = tokio::time::sleep(tick) => {}
        }
        // Let a burst of events land before planning over it.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
