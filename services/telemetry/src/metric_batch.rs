//! [`MetricBatch`]: one node's metrics at one sampling instant, as published on `ef.tel.<site>.<node>.metrics` and
//! kept in the site's telemetry stream.
//!
//! Site and node are not in the batch: they are the subject's, which the site's permissions tie to the node's
//! credential, so a node cannot speak for another. The frame is `b"EM"`, a little-endian format version, then a
//! snappy block of postcard ([`WireBatch`]): one timestamp for the whole batch, points grouped into families (one
//! name and one set of label names, written once), integral values as varints. A week of a node's metrics is kept at
//! the site through an outage, so bytes per sample are what sizes the site's disk (`edgefleet-bench` prints them).

use crate::snappy_frame::{self, FrameError};
use serde::{Deserialize, Serialize};

const MAGIC: [u8; 2] = *b"EM";
/// The batch layout this build writes and reads.
pub const BATCH_VERSION: u16 = 1;
/// A batch that would decompress beyond this is refused unread (a node samples a few hundred series).
const MAX_DECODED: usize = 4 * 1024 * 1024;

/// How Prometheus should read a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MetricType {
    /// A value that goes up and down.
    Gauge,
    /// A value that only goes up (resets at restart); read with `rate()`.
    Counter,
}

/// One series' value in a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// The metric name (`node_load1`, `edgefleet_node_boot_slot`, …).
    pub name: String,
    /// Gauge or counter.
    pub kind: MetricType,
    /// Labels beyond `site` and `node`, in the order given.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

impl MetricPoint {
    /// A gauge without labels.
    pub fn gauge(name: &str, value: f64) -> Self {
        Self {
            name: name.to_string(),
            kind: MetricType::Gauge,
            labels: Vec::new(),
            value,
        }
    }

    /// A counter without labels.
    pub fn counter(name: &str, value: f64) -> Self {
        Self {
            kind: MetricType::Counter,
            ..Self::gauge(name, value)
        }
    }

    /// The same point with one more label.
    pub fn with(mut self, label: &str, value: &str) -> Self {
        self.labels.push((label.to_string(), value.to_string()));
        self
    }
}

/// One node's metrics sampled at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricBatch {
    /// When they were sampled, milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The values.
    pub points: Vec<MetricPoint>,
}

/// Why bytes are not a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Fewer bytes than a header.
    #[error("metric batch truncated: {0} bytes")]
    Truncated(usize),
    /// Not a metric batch at all.
    #[error("not a metric batch (magic {0:02x?})")]
    BadMagic([u8; 2]),
    /// Written by a newer or older build.
    #[error("metric batch version {found} is unknown to this build (it reads {BATCH_VERSION})")]
    UnknownVersion {
        /// The version found.
        found: u16,
    },
    /// The body does not decode.
    #[error("metric batch body: {0}")]
    Body(String),
    /// Could not be encoded.
    #[error("encoding a metric batch: {0}")]
    Encode(String),
}

impl MetricBatch {
    /// The framed bytes.
    pub fn encode(&self) -> Result<Vec<u8>, BatchError> {
        snappy_frame::encode(MAGIC, BATCH_VERSION, &WireBatch::of(self)).map_err(|e| match e {
            FrameError::Body(reason) => BatchError::Encode(reason),
            other => BatchError::Encode(format!("{other:?}")),
        })
    }

    /// A batch from framed bytes; anything else is a typed error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, BatchError> {
        let wire: WireBatch = snappy_frame::decode(bytes, MAGIC, BATCH_VERSION, MAX_DECODED).map_err(|e| match e {
            FrameError::Truncated(n) => BatchError::Truncated(n),
            FrameError::BadMagic(magic) => BatchError::BadMagic(magic),
            FrameError::UnknownVersion(found) => BatchError::UnknownVersion { found },
            FrameError::Body(reason) => BatchError::Body(reason),
        })?;
        wire.into_batch()
    }
}

/// The batch as stored: points grouped by family.
#[derive(Serialize, Deserialize)]
struct WireBatch {
    at_ms: i64,
    families: Vec<WireFamily>,
}

/// Points sharing a name, a type and label names.
#[derive(Serialize, Deserialize)]
struct WireFamily {
    name: String,
    kind: MetricType,
    label_names: Vec<String>,
    rows: Vec<(Vec<String>, WireValue)>,
}

/// A value: most are whole numbers (bytes, counts), which take a varint instead of eight bytes.
#[derive(Serialize, Deserialize)]
enum WireValue {
    Int(i64),
    Float(f64),
}

impl WireValue {
    fn of(value: f64) -> Self {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer up to here is exact in an f64
        if value.fract() == 0.0 && value.abs() <= EXACT && !(value == 0.0 && value.is_sign_negative()) {
            WireValue::Int(value as i64)
        } else {
            WireValue::Float(value)
        }
    }

    fn value(&self) -> f64 {
        match *self {
            WireValue::Int(i) => i as f64,
            WireValue::Float(f) => f,
        }
    }
}

impl WireBatch {
    fn of(batch: &MetricBatch) -> Self {
        let mut families: Vec<WireFamily> = Vec::new();
        let mut index: std::collections::HashMap<(&str, MetricType, Vec<&str>), usize> =
            std::collections::HashMap::new();
        for point in &batch.points {
            let label_names: Vec<&str> = point.labels.iter().map(|(k, _)| k.as_str()).collect();
            let key = (point.name.as_str(), point.kind, label_names);
            let i = *index.entry(key).or_insert_with_key(|(name, kind, label_names)| {
                families.push(WireFamily {
                    name: name.to_string(),
                    kind: *kind,
                    label_names: label_names.iter().map(|n| n.to_string()).collect(),
                    rows: Vec::new(),
                });
                families.len() - 1
            });
            let values = point.labels.iter().map(|(_, v)| v.clone()).collect();
            families[i].rows.push((values, WireValue::of(point.value)));
        }
        WireBatch {
            at_ms: batch.at_ms,
            families,
        }
    }

    fn into_batch(self) -> Result<MetricBatch, BatchError> {
        let mut points = Vec::new();
        for family in self.families {
            for (values, value) in family.rows {
                if values.len() != family.label_names.len() {
                    return Err(BatchError::Body(format!(
                        "{}: {} label values for {} label names",
                        family.name,
                        values.len(),
                        family.label_names.len()
                    )));
                }
                points.push(MetricPoint {
                    name: family.name.clone(),
                    kind: family.kind,
                    labels: family.label_names.iter().cloned().zip(values).collect(),
                    value: value.value(),
                });
            }
        }
        Ok(MetricBatch {
            at_ms: self.at_ms,
            points,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn batch() -> MetricBatch {
        MetricBatch {
            at_ms: 1_790_000_000_000,
            points: vec![
                MetricPoint::gauge("node_load1", 0.61),
                MetricPoint::counter("node_cpu_seconds_total", 12528.68)
                    .with("cpu", "0")
                    .with("mode", "user"),
            ],
        }
    }

    #[test]
    fn a_batch_reads_back_as_written() {
        let bytes = batch().encode().expect("encodes");
        assert_eq!(MetricBatch::decode(&bytes), Ok(batch()));
    }

    #[test]
    fn points_come_back_grouped_by_family_with_every_value_exact() {
        let odd = [-0.0, f64::NAN, f64::INFINITY, 1e300, -3.0, 2.5, 9_007_199_254_740_993.0];
        let mut points: Vec<MetricPoint> = odd
            .iter()
            .enumerate()
            .map(|(i, v)| MetricPoint::gauge("odd", *v).with("i", &i.to_string()))
            .collect();
        points.insert(2, MetricPoint::counter("other", 7.0));
        let batch = MetricBatch { at_ms: -5, points };
        let decoded = MetricBatch::decode(&batch.encode().expect("encodes")).expect("decodes");
        assert_eq!(decoded.at_ms, -5);
        let names: Vec<&str> = decoded.points.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["odd", "odd", "odd", "odd", "odd", "odd", "odd", "other"]);
        for (got, want) in decoded.points.iter().zip(odd) {
            assert_eq!(got.value.to_bits(), want.to_bits(), "{want}");
        }
    }

    #[test]
    fn a_real_sample_round_trips() {
        let sampled = crate::NodeSampler::default().sample(1_790_000_000_000);
        let decoded = MetricBatch::decode(&sampled.batch.encode().expect("encodes")).expect("decodes");
        let key = |p: &MetricPoint| format!("{}{:?}={}", p.name, p.labels, p.value);
        let mut want: Vec<String> = sampled.batch.points.iter().map(key).collect();
        let mut got: Vec<String> = decoded.points.iter().map(key).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn foreign_truncated_and_future_bytes_are_typed_errors() {
        let bytes = batch().encode().expect("encodes");
        assert_eq!(MetricBatch::decode(&bytes[..3]), Err(BatchError::Truncated(3)));
        assert_eq!(MetricBatch::decode(b"EF\x01\x00"), Err(BatchError::BadMagic(*b"EF")));
        let mut future = bytes.clone();
        future[2] = 9;
        assert_eq!(
            MetricBatch::decode(&future),
            Err(BatchError::UnknownVersion { found: 9 })
        );
        assert!(matches!(
            MetricBatch::decode(&bytes[..bytes.len() - 3]),
            Err(BatchError::Body(_))
        ));
        let mut longer = bytes;
        longer.push(0);
        assert!(matches!(MetricBatch::decode(&longer), Err(BatchError::Body(_))));
    }

    proptest! {
        #[test]
        fn no_bytes_make_decode_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut framed = b"EM\x01\x00".to_vec();
            framed.extend_from_slice(&bytes);
            let _ = MetricBatch::decode(&framed);
            let _ = MetricBatch::decode(&bytes);
        }
    }
}
