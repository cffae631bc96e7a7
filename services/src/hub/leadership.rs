//! Which hub of a cluster runs the single-writer loops — the rollout orchestrator (`plan_hub`) and the repair of
//! stalled site copies: the one holding the `orchestrator` lease (`replay::lease`, compare-and-set in the
//! JetStream bucket `ef-leases`, replicated like the intents). Every hub contends; the holder renews every
//! [`RENEW_EVERY`]; another takes over only once the lease ran out by half its time to live.
//!
//! A hub counts as leader only while its lease has more than [`SAFETY`] left, so a holder cut off from JetStream
//! stops planning before anyone can take over. Should two hubs still plan at once (clocks skewed past the margin),
//! their writes meet the log's optimistic concurrency: the planner is deterministic over the log, and the second
//! write of the same step is refused and planned again.
//!
//! The holder's name is the hub's server name, stable across restarts, so a restarted hub takes its own lease back
//! at once (its data dir is locked, so no other process holds that name).

use replay::lease::Lease;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The bucket of hub leases.
pub const LEASE_BUCKET: &str = "ef-leases";
/// How long a lease lasts unless renewed.
pub const TTL: Duration = Duration::from_secs(6);
/// How often the holder renews (and others try).
pub const RENEW_EVERY: Duration = Duration::from_millis(1_500);
/// A lease with less than this left no longer counts.
pub const SAFETY: Duration = Duration::from_secs(1);

/// Whether this hub leads, as of its last renewal.
#[derive(Default)]
pub struct Leadership {
    until_unix_ms: Cell<u64>,
}

impl Leadership {
    /// True while this hub's lease has more than [`SAFETY`] left.
    pub fn holds(&self) -> bool {
        leads(self.until_unix_ms.get(), actors::process_clock::system_wall_ms())
    }
}

/// True if a lease held until `until_unix_ms` still counts at `now_unix_ms`.
pub fn leads(until_unix_ms: u64, now_unix_ms: u64) -> bool {
    now_unix_ms.saturating_add(SAFETY.as_millis() as u64) < until_unix_ms
}

/// Opens the lease for hub `me` and keeps contending for it until aborted.
/// Wakes `planner` when the lease is taken.
pub async fn keep(
    js: async_nats::jetstream::Context,
    replicas: usize,
    me: String,
    leadership: Rc<Leadership>,
    planner: Arc<Notify>,
) {
    let mut lease: Option<Lease> = None;
    loop {
        let was = leadership.holds();
        if lease.is_none() {
            match Lease::open(&js, LEASE_BUCKET, replicas, "orchestrator", &me, TTL).await {
                Ok(opened) => lease = Some(opened),
                Err(e) => tracing::warn!(error = %e, "cannot open the orchestrator lease; trying again"),
            }
        }
        if let Some(held) = &lease {
            match held.try_hold(actors::process_clock::system_wall_ms()).await {
                Ok(Some(until)) => leadership.until_unix_ms.set(until),
                Ok(None) => leadership.until_unix_ms.set(0),
                // Unreachable JetStream: the lease we have runs out by itself; the bucket is opened again.
                Err(e) => {
                    tracing::warn!(error = %e, "orchestrator lease not renewed");
                    lease = None;
                }
            }
        }
        match (was, leadership.holds()) {
            (false, true) => {
                tracing::info!(hub = %me, "this hub now runs the orchestrator");
                planner.notify_one();
            }
            (true, false) => tracing::warn!(hub = %me, "this hub no longer runs the orchestrator"),
            _ => {}
        }
        tokio::time::sleep(RENEW_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_counts_only_while_more_than_the_safety_margin_is_left() {
        assert!(leads(10_000, 8_000));
        assert!(!leads(10_000, 9_000));
        assert!(!leads(0, 1));
    }
}
