//! Turns a node's [`MetricBatch`]es into remote-write [`Series`]: one series per metric name and label set, with
//! `site` and `node` added, samples in time order.

use crate::metric_batch::MetricBatch;
use crate::write_request::Series;
use std::collections::BTreeMap;

/// A series' sorted labels.
type LabelSet = Vec<(String, String)>;

/// The series of `batches` sampled at `node` of `site`. Points labelled `site` or `node` themselves keep the
/// node's identity: those labels are the subject's, never the point's.
pub fn series_of(site: &str, node: &str, batches: &[MetricBatch]) -> Vec<Series> {
    let mut by_labels: BTreeMap<LabelSet, Vec<(i64, f64)>> = BTreeMap::new();
    for batch in batches {
        for point in &batch.points {
            let mut labels: Vec<(&str, &str)> = vec![("site", site), ("node", node)];
            labels.extend(point.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let series = Series::new(&point.name, &labels);
            by_labels
                .entry(series.labels)
                .or_default()
                .push((batch.at_ms, point.value));
        }
    }
    by_labels
        .into_iter()
        .map(|(labels, mut samples)| {
            samples.sort_by_key(|(at, _)| *at);
            samples.dedup_by_key(|(at, _)| *at);
            Series { labels, samples }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_batch::MetricPoint;

    #[test]
    fn one_series_per_name_and_labels_with_the_nodes_identity() {
        let batch = |at_ms, load| MetricBatch {
            at_ms,
            points: vec![
                MetricPoint::gauge("node_load1", load),
                MetricPoint::gauge("node_filesystem_avail_bytes", 5.0).with("mountpoint", "/"),
                MetricPoint::gauge("spoof", 1.0).with("node", "other"),
            ],
        };
        let series = series_of("s1", "n1", &[batch(2000, 0.5), batch(1000, 0.25)]);
        assert_eq!(series.len(), 3);
        let load = series
            .iter()
            .find(|s| s.labels[0].1 == "node_load1")
            .expect("load series");
        assert_eq!(load.samples, vec![(1000, 0.25), (2000, 0.5)], "oldest first");
        let labels: Vec<(&str, &str)> = load.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(labels, vec![("__name__", "node_load1"), ("node", "n1"), ("site", "s1")]);
        let spoof = series.iter().find(|s| s.labels[0].1 == "spoof").expect("spoof series");
        assert!(spoof.labels.contains(&("node".to_string(), "n1".to_string())));
    }
}
