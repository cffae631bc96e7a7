//! A node's recent samples as a few series a person reads at a glance (the dashboard's sparklines): load, CPU busy
//! and memory used, from its metric batches. Pure.

use crate::MetricBatch;
use serde::{Deserialize, Serialize};

/// One series over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentSeries {
    /// What it is (`load1`, `cpu busy`, `memory used`).
    pub name: String,
    /// Its unit (`""`, `%`).
    pub unit: String,
    /// (sampled at, ms since the epoch; value), oldest first.
    pub points: Vec<(i64, f64)>,
}

fn value(batch: &MetricBatch, name: &str) -> Option<f64> {
    batch
        .points
        .iter()
        .find(|p| p.name == name && p.labels.is_empty())
        .map(|p| p.value)
}

/// (busy, all) CPU seconds of a batch, over every CPU and mode.
fn cpu_seconds(batch: &MetricBatch) -> Option<(f64, f64)> {
    let mut busy = 0.0;
    let mut all = 0.0;
    let mut seen = false;
    for point in batch.points.iter().filter(|p| p.name == "node_cpu_seconds_total") {
        seen = true;
        all += point.value;
        let idle = point
            .labels
            .iter()
            .any(|(k, v)| k == "mode" && (v == "idle" || v == "iowait"));
        if !idle {
            busy += point.value;
        }
    }
    seen.then_some((busy, all))
}

/// `node_load1`, CPU busy (% between consecutive batches; none across a counter reset) and memory used (% of
/// `MemTotal` not `MemAvailable`), from `batches` in any order.
pub fn recent_series(batches: &[MetricBatch]) -> Vec<RecentSeries> {
    let mut sorted: Vec<&MetricBatch> = batches.iter().collect();
    sorted.sort_by_key(|b| b.at_ms);
    let load = sorted
        .iter()
        .filter_map(|b| value(b, "node_load1").map(|v| (b.at_ms, v)))
        .collect();
    let memory = sorted
        .iter()
        .filter_map(|b| {
            let total = value(b, "node_memory_MemTotal_bytes").filter(|t| *t > 0.0)?;
            let available = value(b, "node_memory_MemAvailable_bytes")?;
            Some((b.at_ms, 100.0 * (1.0 - available / total)))
        })
        .collect();
    let cpu = sorted
        .windows(2)
        .filter_map(|pair| {
            let (busy_a, all_a) = cpu_seconds(pair[0])?;
            let (busy_b, all_b) = cpu_seconds(pair[1])?;
            let (busy, all) = (busy_b - busy_a, all_b - all_a);
            (all > 0.0 && busy >= 0.0).then(|| (pair[1].at_ms, 100.0 * busy / all))
        })
        .collect();
    vec![
        RecentSeries {
            name: "load1".into(),
            unit: String::new(),
            points: load,
        },
        RecentSeries {
            name: "cpu busy".into(),
            unit: "%".into(),
            points: cpu,
        },
        RecentSeries {
            name: "memory used".into(),
            unit: "%".into(),
            points: memory,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetricPoint;

    fn batch(at_ms: i64, load: f64, idle: f64, user: f64, available: f64) -> MetricBatch {
        MetricBatch {
            at_ms,
            points: vec![
                MetricPoint::gauge("node_load1", load),
                MetricPoint::counter("node_cpu_seconds_total", idle)
                    .with("cpu", "0")
                    .with("mode", "idle"),
                MetricPoint::counter("node_cpu_seconds_total", user)
                    .with("cpu", "0")
                    .with("mode", "user"),
                MetricPoint::gauge("node_memory_MemTotal_bytes", 1000.0),
                MetricPoint::gauge("node_memory_MemAvailable_bytes", available),
            ],
        }
    }

    #[test]
    fn given_three_batches_out_of_order_the_series_are_in_time_order_and_cpu_is_a_rate() {
        let batches = [
            batch(3_000, 0.9, 115.0, 15.0, 250.0),
            batch(1_000, 0.5, 100.0, 10.0, 750.0),
            batch(2_000, 0.7, 110.0, 10.0, 500.0),
        ];
        let series = recent_series(&batches);
        assert_eq!(series[0].points, vec![(1_000, 0.5), (2_000, 0.7), (3_000, 0.9)]);
        assert_eq!(series[1].points, vec![(2_000, 0.0), (3_000, 50.0)]);
        assert_eq!(series[2].points, vec![(1_000, 25.0), (2_000, 50.0), (3_000, 75.0)]);
    }

    #[test]
    fn a_counter_reset_and_missing_series_leave_gaps_not_nonsense() {
        let restarted = [
            batch(1_000, 0.5, 500.0, 50.0, 500.0),
            batch(2_000, 0.5, 1.0, 1.0, 500.0),
        ];
        assert!(recent_series(&restarted)[1].points.is_empty());
        let bare = [MetricBatch {
            at_ms: 1,
            points: vec![],
        }];
        assert!(recent_series(&bare).iter().all(|s| s.points.is_empty()));
    }
}
