//! Replay of the same stream through the project's own path: `replay::rebuild_streams` into an empty fleet.

use anyhow::{anyhow, bail, Context as _};
use async_nats::jetstream::context::Context;
use replay::{rebuild_streams, FleetState, Quarantine};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// What one replay did.
pub struct ReplayFigures {
    /// Messages read.
    pub messages: u64,
    /// Aggregates in the rebuilt fleet.
    pub aggregates: usize,
    /// Wall time of `rebuild_streams`.
    pub elapsed: Duration,
}

/// Rebuilds a fresh [`FleetState`] from `stream` and checks every one of the `expected` messages was applied and
/// none quarantined; fails if it does not finish within `deadline`.
pub async fn replay_all(
    js: &Context,
    stream: &str,
    expected: u64,
    deadline: Duration,
) -> anyhow::Result<ReplayFigures> {
    let mut fleet = FleetState::new();
    let quarantine = Quarantine::in_memory();
    let streams = [stream.to_string()];
    let started = Instant::now();
    let report = tokio::time::timeout(deadline, rebuild_streams(js, &streams, &mut fleet, &quarantine))
        .await
        .map_err(|_| anyhow!("replay of {stream} did not finish within {deadline:?}"))?
        .with_context(|| format!("replaying {stream}"))?;
    let elapsed = started.elapsed();
    black_box(&fleet);
    if report.messages != expected || report.quarantined != 0 {
        bail!(
            "replay of {stream} read {} messages ({} quarantined), expected {expected} and none quarantined: {:?}",
            report.messages,
            report.quarantined,
            quarantine.entries().first()
        );
    }
    if fleet.high_water.get(stream).copied() != Some(expected) {
        bail!(
            "replay of {stream} stopped at {:?}, expected {expected}",
            fleet.high_water.get(stream)
        );
    }
    Ok(ReplayFigures {
        messages: report.messages,
        aggregates: report.aggregates,
        elapsed,
    })
}
