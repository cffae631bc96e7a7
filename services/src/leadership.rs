//! Which process of a cluster runs the single-writer loops, under a lease (`replay::lease`, compare-and-set in a
//! JetStream key-value bucket, never gossip):
//! - of a hub cluster, the rollout orchestrator (`plan_hub`) and the repair of stalled site copies: the
//!   [`HUB_ORCHESTRATOR`] lease in `ef-leases`, replicated like the intents;
//! - of a clustered site, the site controller (its planner, the agents' endpoint, the beacon, the shaping of its
//!   NATS cluster): the [`SITE_CONTROLLER`] lease in the site's `ef-site-leases`.
//!
//! Every process contends; the holder renews every [`RENEW_EVERY`]; another takes over only once the lease ran out by
//! half its time to live. A process counts as leader only while its lease has more than [`SAFETY`] left, so a holder
//! cut off from JetStream stops before anyone can take over. Should two still act at once (clocks skewed past the
//! margin), their writes meet the log's optimistic concurrency: planners are deterministic over the log, and the
//! second write of the same step is refused and planned again.
//!
//! The holder's name is the process's server name, stable across restarts, so a restarted process takes its own
//! lease back at once (its data dir is locked, so no other process holds that name).

use replay::lease::Lease;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// One lease: its bucket and its key.
#[derive(Debug, Clone, Copy)]
pub struct LeaseName {
    /// The key-value bucket.
    pub bucket: &'static str,
    /// The lease's key in it.
    pub key: &'static str,
}

/// The hubs' orchestrator lease.
pub const HUB_ORCHESTRATOR: LeaseName = LeaseName {
    bucket: "ef-leases",
    key: "orchestrator",
};

/// A clustered site's controller lease.
pub const SITE_CONTROLLER: LeaseName = LeaseName {
    bucket: "ef-site-leases",
    key: "controller",
};
/// How long a lease lasts unless renewed.
pub const TTL: Duration = Duration::from_secs(6);
/// How often the holder renews (and others try).
pub const RENEW_EVERY: Duration = Duration::from_millis(1_500);
/// A lease with less than this left no longer counts.
pub const SAFETY: Duration = Duration::from_secs(1);

/// Whether this process leads, as of its last renewal.
#[derive(Default)]
pub struct Leadership {
    until_unix_ms: Cell<u64>,
}

impl Leadership {
    /// A process alone in its role (a single-server site): it always leads.
    pub fn sole() -> Self {
        Self {
            until_unix_ms: Cell::new(u64::MAX),
        }
    }

    /// True while this process's lease has more than [`SAFETY`] left.
    pub fn holds(&self) -> bool {
        leads(self.until_unix_ms.get(), actors::process_clock::system_wall_ms())
    }
}

/// True if a lease held until `until_unix_ms` still counts at `now_unix_ms`.
pub fn leads(until_unix_ms: u64, now_unix_ms: u64) -> bool {
    now_unix_ms.saturating_add(SAFETY.as_millis() as u64) < until_unix_ms
}

/// Opens lease `name` for process `me` and keeps contending for it until aborted.
/// Wakes `planner` when the lease is taken.
pub async fn keep(
    js: async_nats::jetstream::Context,
    replicas: usize,
    name: LeaseName,
    me: String,
    leadership: Rc<Leadership>,
    planner: Arc<Notify>,
) {
    let mut lease: Option<Lease> = None;
    loop {
        let was = leadership.holds();
        if lease.is_none() {
            match Lease::open(&js, name.bucket, replicas, name.key, &me, TTL).await {
                Ok(opened) => lease = Some(opened),
                Err(e) => tracing::warn!(error = %e, lease = name.key, "cannot open the lease; trying again"),
            }
        }
        if let Some(held) = &lease {
            match held.try_hold(actors::process_clock::system_wall_ms()).await {
                Ok(Some(until)) => leadership.until_unix_ms.set(until),
                Ok(None) => leadership.until_unix_ms.set(0),
                // Unreachable JetStream: the lease we have runs out by itself; the bucket is opened again.
                Err(e) => {
                    tracing::warn!(error = %e, lease = name.key, "lease not renewed");
                    lease = None;
                }
            }
        }
        match (was, leadership.holds()) {
            (false, true) => {
                tracing::info!(holder = %me, lease = name.key, "this process now holds the lease");
                planner.notify_one();
            }
            (true, false) => tracing::warn!(holder = %me, lease = name.key, "this process no longer holds the lease"),
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
