//! Evaluating a [`MetricGate`] over the samples an updated cluster's nodes reported since its update: the verdict
//! the site records in the rollout's log. Pure: the caller reads the samples from the site's telemetry stream.
//!
//! The window opens when the cluster was reported updated (`since_ms`) and closes `for_s` later. A node's samples
//! count from the window's opening up to and including its first sample at or after the window's close, so every
//! node is seen through the whole window (with `for 0s`: its first sample after the update decides).
//! - Any counted sample that fails the condition: **breached** — the earliest such sample names the node, the
//!   series and the value.
//! - Every node has a counted sample at or after the close and none failed: **passed**.
//! - Otherwise: **waiting**, naming the nodes not yet seen through the window.

use crate::metric_gate::MetricGate;
use events::Token;
use std::collections::{BTreeMap, BTreeSet};

/// One sample of a series a node reported, as the gate sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct GateSample {
    /// The node that reported it.
    pub node: Token,
    /// Metric name.
    pub metric: String,
    /// Its labels (without `site` and `node`).
    pub labels: Vec<(String, String)>,
    /// Sample time, ms since the epoch (the node's clock).
    pub at_ms: u64,
    /// Value.
    pub value: f64,
}

impl GateSample {
    /// The series as PromQL writes it: `name{k="v",…}` with labels sorted.
    pub fn series(&self) -> String {
        if self.labels.is_empty() {
            return self.metric.clone();
        }
        let mut labels: Vec<_> = self.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        labels.sort();
        format!("{}{{{}}}", self.metric, labels.join(","))
    }
}

/// A sample that failed the gate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateBreach {
    /// The node.
    pub node: Token,
    /// The series (`node_load1`, `node_filesystem_avail_bytes{mountpoint="/"}`).
    pub series: String,
    /// The value, as text (shortest form that reads back to the same number).
    pub value: String,
    /// Sample time, ms since the epoch.
    pub at_ms: u64,
}

/// What the samples say about a gate now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateVerdict {
    /// Every node held the condition through the window.
    Passed,
    /// A sample failed the condition.
    Breached(GateBreach),
    /// Not every node has been seen through the window yet: these have not.
    Waiting(Vec<Token>),
}

/// The verdict of `gate` over `members`, for a window opening at `since_ms`, from `samples` (any order; samples of
/// other metrics, other nodes or from before the window are ignored).
pub fn evaluate_gate(
    gate: &MetricGate,
    since_ms: u64,
    members: &[Token],
    samples: impl IntoIterator<Item = GateSample>,
) -> GateVerdict {
    let close_ms = since_ms.saturating_add(gate.for_s.saturating_mul(1000));
    let members: BTreeSet<&Token> = members.iter().collect();
    let mut by_node: BTreeMap<Token, Vec<GateSample>> = BTreeMap::new();
    for sample in samples {
        let selected = gate.selects(
            &sample.metric,
            sample.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if selected && sample.at_ms >= since_ms && members.contains(&sample.node) {
            by_node.entry(sample.node.clone()).or_default().push(sample);
        }
    }
    let mut breach: Option<GateBreach> = None;
    let mut unseen = Vec::new();
    for member in members {
        let samples = by_node.get(member).map_or(&[][..], Vec::as_slice);
        // Counted up to the node's first sample at or after the close.
        let last_counted = samples.iter().map(|s| s.at_ms).filter(|at| *at >= close_ms).min();
        if last_counted.is_none() {
            unseen.push(member.clone());
        }
        let limit = last_counted.unwrap_or(close_ms);
        for sample in samples.iter().filter(|s| s.at_ms <= limit && !gate.holds(s.value)) {
            let candidate = GateBreach {
                node: sample.node.clone(),
                series: sample.series(),
                value: sample.value.to_string(),
                at_ms: sample.at_ms,
            };
            let earlier =
                |b: &GateBreach| (candidate.at_ms, &candidate.node, &candidate.series) < (b.at_ms, &b.node, &b.series);
            if breach.as_ref().is_none_or(earlier) {
                breach = Some(candidate);
            }
        }
    }
    match breach {
        Some(breach) => GateVerdict::Breached(breach),
        None if unseen.is_empty() => GateVerdict::Passed,
        None => GateVerdict::Waiting(unseen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_gate::parse_gate;

    fn t(s: &str) -> Token {
        Token::new(s).expect("token")
    }

    fn load(node: &str, at_s: u64, value: f64) -> GateSample {
        GateSample {
            node: t(node),
            metric: "node_load1".into(),
            labels: vec![],
            at_ms: at_s * 1000,
            value,
        }
    }

    fn members() -> Vec<Token> {
        vec![t("n1"), t("n2")]
    }

    #[test]
    fn given_every_node_below_the_threshold_through_the_window_the_gate_passes() {
        let gate = parse_gate("node_load1 < 4 for 60s").expect("gate");
        let samples = (0..=5).flat_map(|i| [load("n1", 100 + i * 15, 1.0), load("n2", 100 + i * 15, 2.5)]);
        assert_eq!(evaluate_gate(&gate, 100_000, &members(), samples), GateVerdict::Passed);
    }

    #[test]
    fn given_a_node_not_yet_seen_past_the_window_the_gate_waits_for_it() {
        let gate = parse_gate("node_load1 < 4 for 60s").expect("gate");
        let samples = [load("n1", 110, 1.0), load("n1", 170, 1.0), load("n2", 110, 1.0)];
        assert_eq!(
            evaluate_gate(&gate, 100_000, &members(), samples),
            GateVerdict::Waiting(vec![t("n2")])
        );
    }

    #[test]
    fn the_earliest_failing_sample_in_the_window_breaches_the_gate() {
        let gate = parse_gate("node_load1 < 4 for 60s").expect("gate");
        let samples = [
            load("n1", 90, 9.0), // before the update: ignored
            load("n1", 130, 7.25),
            load("n2", 120, 4.0),
            load("n2", 200, 50.0), // after n2's first sample past the close: not counted
            load("n2", 165, 1.0),
        ];
        let verdict = evaluate_gate(&gate, 100_000, &members(), samples);
        assert_eq!(
            verdict,
            GateVerdict::Breached(GateBreach {
                node: t("n2"),
                series: "node_load1".into(),
                value: "4".into(),
                at_ms: 120_000
            })
        );
    }

    #[test]
    fn with_no_duration_each_node_first_sample_after_the_update_decides() {
        let gate = parse_gate("node_load1 < 4").expect("gate");
        let passed = [load("n1", 101, 1.0), load("n2", 102, 1.0), load("n2", 103, 99.0)];
        assert_eq!(evaluate_gate(&gate, 100_000, &members(), passed), GateVerdict::Passed);
        let breached = [load("n1", 101, 1.0), load("n2", 102, 5.5)];
        assert!(matches!(
            evaluate_gate(&gate, 100_000, &members(), breached),
            GateVerdict::Breached(GateBreach { ref node, .. }) if *node == t("n2")
        ));
    }

    #[test]
    fn only_the_series_the_matchers_select_count_and_the_breach_names_the_series() {
        let gate = parse_gate("node_filesystem_avail_bytes{mountpoint=\"/\"} > 1000 for 0s").expect("gate");
        let fs = |node: &str, mount: &str, value: f64| GateSample {
            node: t(node),
            metric: "node_filesystem_avail_bytes".into(),
            labels: vec![("mountpoint".into(), mount.into()), ("fstype".into(), "ext4".into())],
            at_ms: 100_500,
            value,
        };
        let samples = [
            fs("n1", "/", 5000.0),
            fs("n1", "/boot", 1.0),
            fs("n2", "/", 10.0),
            fs("n3", "/", 0.0),
        ];
        assert_eq!(
            evaluate_gate(&gate, 100_000, &members(), samples),
            GateVerdict::Breached(GateBreach {
                node: t("n2"),
                series: "node_filesystem_avail_bytes{fstype=\"ext4\",mountpoint=\"/\"}".into(),
                value: "10".into(),
                at_ms: 100_500
            })
        );
    }
}
