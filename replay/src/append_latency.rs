//! [`AppendLatency`]: how long event appends take, from publish to the server's acknowledgement, in the process
//! that makes them — a histogram of fixed buckets with atomic counts, for the process's `/metrics`. Process-wide
//! ([`append_latency`]), as every `JetStreamLog` of a process appends to the same servers; it starts empty at each
//! start, as a Prometheus counter may.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Upper bounds of the buckets, in seconds: fsync-per-write appends take milliseconds, a struggling server seconds.
pub const BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Counts of appends by latency.
#[derive(Debug, Default)]
pub struct AppendLatency {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// What the histogram holds now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencySnapshot {
    /// (upper bound in seconds, appends at most that long), cumulative, ascending.
    pub buckets: Vec<(f64, u64)>,
    /// Total seconds.
    pub sum_seconds: f64,
    /// Appends.
    pub count: u64,
}

impl AppendLatency {
    /// Records one append that took `took`.
    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(took.as_micros().min(u128::from(u64::MAX)) as u64, Ordering::Relaxed);
    }

    /// The cumulative buckets, sum and count now.
    pub fn snapshot(&self) -> LatencySnapshot {
        let mut running = 0;
        let buckets = BUCKETS
            .iter()
            .zip(&self.buckets)
            .map(|(bound, n)| {
                running += n.load(Ordering::Relaxed);
                (*bound, running)
            })
            .collect();
        LatencySnapshot {
            buckets,
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// This process's append latencies.
pub fn append_latency() -> &'static AppendLatency {
    static LATENCY: OnceLock<AppendLatency> = OnceLock::new();
    LATENCY.get_or_init(AppendLatency::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_fall_into_cumulative_buckets() {
        let latency = AppendLatency::default();
        latency.observe(Duration::from_micros(300));
        latency.observe(Duration::from_millis(3));
        latency.observe(Duration::from_secs(9));
        let snapshot = latency.snapshot();
        assert_eq!(snapshot.count, 3);
        assert_eq!(snapshot.buckets[0], (0.0005, 1));
        assert_eq!(snapshot.buckets[3], (0.005, 2));
        assert_eq!(
            snapshot.buckets[12],
            (5.0, 2),
            "beyond the last bucket: only in +Inf (the count)"
        );
        assert!((snapshot.sum_seconds - 9.0033).abs() < 1e-9);
    }
}
