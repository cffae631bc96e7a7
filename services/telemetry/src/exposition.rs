//! Prometheus' text exposition format (0.0.4) for what a process serves on `/metrics`: families of gauges,
//! counters and histograms, rendered with escaped label values. Pure: builds text.

use std::fmt::Write as _;

/// A family's type line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyType {
    /// `gauge`.
    Gauge,
    /// `counter`.
    Counter,
    /// `histogram`.
    Histogram,
}

/// One metric family: its samples, or one histogram per label set.
#[derive(Clone, Debug)]
pub struct Family {
    name: String,
    help: String,
    kind: FamilyType,
    samples: Vec<(Vec<(String, String)>, f64)>,
    histograms: Vec<(Vec<(String, String)>, HistogramValues)>,
}

/// A histogram's cumulative buckets (upper bound → count of observations ≤ it), sum and count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramValues {
    /// (upper bound, cumulative count), ascending; `+Inf` is added from `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of observations.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Family {
    /// A family named `name` (which must be a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`).
    pub fn new(name: &str, help: &str, kind: FamilyType) -> Self {
        Self {
            name: name.to_string(),
            help: help.to_string(),
            kind,
            samples: Vec::new(),
            histograms: Vec::new(),
        }
    }

    /// Adds a sample with `labels`.
    pub fn sample(mut self, labels: &[(&str, &str)], value: f64) -> Self {
        self.push(labels, value);
        self
    }

    /// Adds a sample with `labels`, in place.
    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        self.samples.push((owned(labels), value));
    }

    /// Adds a histogram with `labels`.
    pub fn histogram(mut self, labels: &[(&str, &str)], values: HistogramValues) -> Self {
        self.histograms.push((owned(labels), values));
        self
    }
}

fn owned(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The text of `families`, each with its `# HELP` and `# TYPE` lines.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families {
        let kind = match family.kind {
            FamilyType::Gauge => "gauge",
            FamilyType::Counter => "counter",
            FamilyType::Histogram => "histogram",
        };
        let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(&family.help));
        let _ = writeln!(out, "# TYPE {} {kind}", family.name);
        for (labels, value) in &family.samples {
            line(&mut out, &family.name, labels, None, *value);
        }
        for (labels, values) in &family.histograms {
            let bucket = format!("{}_bucket", family.name);
            for (le, count) in &values.buckets {
                line(&mut out, &bucket, labels, Some(&number(*le)), *count as f64);
            }
            line(&mut out, &bucket, labels, Some("+Inf"), values.count as f64);
            line(&mut out, &format!("{}_sum", family.name), labels, None, values.sum);
            line(
                &mut out,
                &format!("{}_count", family.name),
                labels,
                None,
                values.count as f64,
            );
        }
    }
    out
}

fn line(out: &mut String, name: &str, labels: &[(String, String)], le: Option<&str>, value: f64) {
    out.push_str(name);
    let le = le.map(|le| ("le".to_string(), le.to_string()));
    let all: Vec<&(String, String)> = labels.iter().chain(le.as_ref()).collect();
    if !all.is_empty() {
        out.push('{');
        for (i, (k, v)) in all.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == f64::INFINITY {
        "+Inf".into()
    } else if value == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{value}")
    }
}

fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_as_the_text_format() {
        let text = render(&[
            Family::new(
                "edgefleet_site_connected",
                "1 if the site's link is up.",
                FamilyType::Gauge,
            )
            .sample(&[("site", "s1")], 1.0)
            .sample(&[("site", "we\"ird\\")], 0.0),
            Family::new(
                "edgefleet_append_latency_seconds",
                "Append latency.",
                FamilyType::Histogram,
            )
            .histogram(
                &[],
                HistogramValues {
                    buckets: vec![(0.001, 2), (0.01, 5)],
                    sum: 0.031,
                    count: 6,
                },
            ),
        ]);
        let expected = "# HELP edgefleet_site_connected 1 if the site's link is up.\n\
# TYPE edgefleet_site_connected gauge\n\
edgefleet_site_connected{site=\"s1\"} 1\n\
edgefleet_site_connected{site=\"we\\\"ird\\\\\"} 0\n\
# HELP edgefleet_append_latency_seconds Append latency.\n\
# TYPE edgefleet_append_latency_seconds histogram\n\
edgefleet_append_latency_seconds_bucket{le=\"0.001\"} 2\n\
edgefleet_append_latency_seconds_bucket{le=\"0.01\"} 5\n\
edgefleet_append_latency_seconds_bucket{le=\"+Inf\"} 6\n\
edgefleet_append_latency_seconds_sum 0.031\n\
edgefleet_append_latency_seconds_count 6\n";
        assert_eq!(text, expected);
    }
}
