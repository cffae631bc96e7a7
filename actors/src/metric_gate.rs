//! A rollout's telemetry gate: a condition on one node metric that must hold on every node of an updated cluster
//! for a while before its wave counts as healthy — `node_load1 < 4 for 2m`,
//! `node_filesystem_avail_bytes{mountpoint="/"} > 1e9 for 5m`.
//!
//! Grammar: `METRIC[{LABEL="VALUE",…}] OP NUMBER [for DURATION]`, with `OP` one of `<`, `<=`, `>`, `>=` and
//! `DURATION` a whole number of `s`, `m` or `h` (at most 24 h; without `for`, one sample per node decides). The log
//! keeps the canonical text ([`MetricGate`]'s `Display`), which parses back to the same gate. Pure: no I/O.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// Longest `for` a gate may ask: a wave waits at most this long on a healthy cluster.
pub const MAX_GATE_FOR_S: u64 = 24 * 3600;

/// How a sample is compared with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum GateOp {
    /// `<`
    Below,
    /// `<=`
    AtMost,
    /// `>`
    Above,
    /// `>=`
    AtLeast,
}

impl GateOp {
    fn as_str(self) -> &'static str {
        match self {
            GateOp::Below => "<",
            GateOp::AtMost => "<=",
            GateOp::Above => ">",
            GateOp::AtLeast => ">=",
        }
    }
}

/// A parsed gate. Equality compares the threshold bit for bit (it is never NaN: the parser refuses it).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MetricGate {
    /// Metric name (`node_load1`).
    pub metric: String,
    /// Labels a series must carry to count (`mountpoint="/"`); empty = every series of the metric.
    pub matchers: BTreeMap<String, String>,
    /// Comparison.
    pub op: GateOp,
    /// Threshold.
    pub threshold: f64,
    /// How long after the update the condition must hold, in seconds.
    pub for_s: u64,
}

impl PartialEq for MetricGate {
    fn eq(&self, other: &Self) -> bool {
        (&self.metric, &self.matchers, self.op, self.for_s) == (&other.metric, &other.matchers, other.op, other.for_s)
            && self.threshold.total_cmp(&other.threshold) == Ordering::Equal
    }
}

impl Eq for MetricGate {}

impl MetricGate {
    /// True if a sample of `value` satisfies the gate (a NaN never does).
    pub fn holds(&self, value: f64) -> bool {
        match self.op {
            GateOp::Below => value < self.threshold,
            GateOp::AtMost => value <= self.threshold,
            GateOp::Above => value > self.threshold,
            GateOp::AtLeast => value >= self.threshold,
        }
    }

    /// True if a series named `name` with `labels` is one the gate looks at.
    pub fn selects<'l>(&self, name: &str, labels: impl IntoIterator<Item = (&'l str, &'l str)> + Clone) -> bool {
        name == self.metric
            && self
                .matchers
                .iter()
                .all(|(k, v)| labels.clone().into_iter().any(|(lk, lv)| lk == k && lv == v))
    }

    /// The gate as the log keeps it. An unreadable text (never written by `decide`) reads as a gate that cannot
    /// pass — it asks for a metric name no series has — so a damaged log holds a wave rather than waving it on.
    pub fn from_log(text: &str) -> Self {
        parse_gate(text).unwrap_or_else(|_| MetricGate {
            metric: format!("unreadable gate {text:?}"),
            matchers: BTreeMap::new(),
            op: GateOp::Below,
            threshold: 0.0,
            for_s: MAX_GATE_FOR_S,
        })
    }
}

impl fmt::Display for MetricGate {
    /// The canonical text, which [`parse_gate`] reads back to the same gate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.metric)?;
        if !self.matchers.is_empty() {
            let matchers: Vec<String> = self.matchers.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            write!(f, "{{{}}}", matchers.join(","))?;
        }
        write!(
            f,
            " {} {} for {}",
            self.op.as_str(),
            self.threshold,
            duration_text(self.for_s)
        )
    }
}

impl std::str::FromStr for MetricGate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_gate(s)
    }
}

fn duration_text(s: u64) -> String {
    match s {
        0 => "0s".into(),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Parses a gate; the error says what is wrong and shows the form.
pub fn parse_gate(text: &str) -> Result<MetricGate, String> {
    let example =
        "e.g. \"node_load1 < 4 for 2m\" or \"node_filesystem_avail_bytes{mountpoint=\\\"/\\\"} > 1e9 for 5m\"";
    let text = text.trim();
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let metric = &text[..name_end];
    if metric.is_empty() || metric.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("gate {text:?} must start with a metric name, {example}"));
    }
    let mut rest = &text[name_end..];
    let mut matchers = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let close = inner
            .find('}')
            .ok_or_else(|| format!("gate {text:?}: the label matchers are not closed with '}}'"))?;
        for matcher in inner[..close].split(',').map(str::trim).filter(|m| !m.is_empty()) {
            let (key, value) = matcher
                .split_once('=')
                .ok_or_else(|| format!("gate {text:?}: matcher {matcher:?} must be LABEL=\"VALUE\""))?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| format!("gate {text:?}: the value of {matcher:?} must be in double quotes"))?;
            let key = key.trim();
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("gate {text:?}: {key:?} is not a label name"));
            }
            if value.contains(['"', '\\']) {
                return Err(format!("gate {text:?}: label values cannot hold quotes or backslashes"));
            }
            matchers.insert(key.to_string(), value.to_string());
        }
        rest = &inner[close + 1..];
    }
    let rest = rest.trim_start();
    let (op, rest) = [
        ("<=", GateOp::AtMost),
        (">=", GateOp::AtLeast),
        ("<", GateOp::Below),
        (">", GateOp::Above),
    ]
    .into_iter()
    .find_map(|(text, op)| rest.strip_prefix(text).map(|after| (op, after)))
    .filter(|(_, after)| !after.starts_with(['=', '<', '>']))
    .ok_or_else(|| {
        let found = rest.split_whitespace().next().unwrap_or("nothing");
        format!("gate {text:?}: expected one of < <= > >= after the metric, found {found:?}; {example}")
    })?;
    let mut words = rest.split_whitespace();
    let threshold = match words.next().map(str::parse::<f64>) {
        Some(Ok(v)) if v.is_finite() => v,
        _ => {
            return Err(format!(
                "gate {text:?}: the threshold must be a finite number; {example}"
            ))
        }
    };
    let for_s = match (words.next(), words.next()) {
        (None, _) => 0,
        (Some("for"), Some(duration)) => parse_duration(duration).map_err(|e| format!("gate {text:?}: {e}"))?,
        _ => {
            return Err(format!(
                "gate {text:?}: after the threshold only \"for DURATION\" may follow; {example}"
            ))
        }
    };
    if let Some(extra) = words.next() {
        return Err(format!("gate {text:?}: unexpected {extra:?} at the end"));
    }
    Ok(MetricGate {
        metric: metric.to_string(),
        matchers,
        op,
        threshold,
        for_s,
    })
}

fn parse_duration(text: &str) -> Result<u64, String> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "duration {text:?} must be a whole number of s, m or h (30s, 2m, 1h)"
            ))
        }
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("duration {text:?} must be a whole number of s, m or h (30s, 2m, 1h)"))?;
    if seconds > MAX_GATE_FOR_S {
        return Err(format!("duration {text:?} is longer than the 24 h a gate may ask"));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gate_reads_back_from_its_canonical_text() {
        for (given, canonical) in [
            ("node_load1 < 4 for 2m", "node_load1 < 4 for 2m"),
            ("node_load1<4 for 120s", "node_load1 < 4 for 2m"),
            (
                "node_filesystem_avail_bytes{mountpoint=\"/\", fstype=\"ext4\"} >= 1e9 for 1h",
                "node_filesystem_avail_bytes{fstype=\"ext4\",mountpoint=\"/\"} >= 1000000000 for 1h",
            ),
            ("edgefleet_agent_up > 0.5", "edgefleet_agent_up > 0.5 for 0s"),
            (
                "node_memory_MemAvailable_bytes <= -3 for 90s",
                "node_memory_MemAvailable_bytes <= -3 for 90s",
            ),
        ] {
            let gate = parse_gate(given).expect(given);
            assert_eq!(gate.to_string(), canonical, "{given}");
            assert_eq!(parse_gate(canonical).as_ref(), Ok(&gate), "{canonical}");
            assert_eq!(MetricGate::from_log(canonical), gate);
        }
    }

    #[test]
    fn a_malformed_gate_is_refused_with_the_reason() {
        for (given, says) in [
            ("", "must start with a metric name"),
            ("4 < node_load1", "must start with a metric name"),
            ("node_load1 4", "expected one of < <= > >="),
            ("node_load1 == 4", "expected one of < <= > >="),
            ("node_load1 < four", "finite number"),
            ("node_load1 < NaN", "finite number"),
            ("node_load1 < inf for 1m", "finite number"),
            ("node_load1 < 4 for", "only \"for DURATION\""),
            ("node_load1 < 4 during 2m", "only \"for DURATION\""),
            ("node_load1 < 4 for 2d", "whole number of s, m or h"),
            ("node_load1 < 4 for 25h", "longer than the 24 h"),
            ("node_load1 < 4 for 2m now", "unexpected \"now\""),
            ("node_load1{cpu=0} < 4", "double quotes"),
            ("node_load1{cpu=\"0\" < 4", "not closed"),
            ("node_load1{=\"0\"} < 4", "is not a label name"),
        ] {
            let error = parse_gate(given).expect_err(given);
            assert!(error.contains(says), "{given:?}: {error}");
        }
    }

    #[test]
    fn a_gate_compares_and_selects_series() {
        let gate = parse_gate("node_filesystem_avail_bytes{mountpoint=\"/\"} > 100 for 1m").expect("gate");
        assert!(gate.holds(101.0) && !gate.holds(100.0) && !gate.holds(f64::NAN));
        assert!(gate.selects("node_filesystem_avail_bytes", [("mountpoint", "/"), ("fstype", "ext4")]));
        assert!(!gate.selects("node_filesystem_avail_bytes", [("mountpoint", "/boot")]));
        assert!(!gate.selects("node_filesystem_size_bytes", [("mountpoint", "/")]));
        let damaged = MetricGate::from_log("garbage");
        assert!(
            !damaged.selects("node_load1", []),
            "an unreadable gate selects nothing, so it never passes"
        );
    }
}
