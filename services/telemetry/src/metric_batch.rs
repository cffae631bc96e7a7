//! [`MetricBatch`]: one node's metrics at one sampling instant, as published on `ef.tel.<site>.<node>.metrics` and
//! kept in the site's telemetry stream.
//!
//! Site and node are not in the batch: they are the subject's, which the site's permissions tie to the node's
//! credential, so a node cannot speak for another. The frame is `b"EM"`, a little-endian format version, then
//! postcard; one timestamp serves every point of the batch.

use serde::{Deserialize, Serialize};

const MAGIC: [u8; 2] = *b"EM";
/// The batch layout this build writes and reads.
pub const BATCH_VERSION: u16 = 1;
const HEADER_LEN: usize = 4;

/// How Prometheus should read a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
        let mut out = Vec::with_capacity(HEADER_LEN + 32 * self.points.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&BATCH_VERSION.to_le_bytes());
        postcard::to_io(self, &mut out).map_err(|e| BatchError::Encode(e.to_string()))?;
        Ok(out)
    }

    /// A batch from framed bytes; anything else is a typed error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, BatchError> {
        if bytes.len() < HEADER_LEN {
            return Err(BatchError::Truncated(bytes.len()));
        }
        let magic = [bytes[0], bytes[1]];
        if magic != MAGIC {
            return Err(BatchError::BadMagic(magic));
        }
        let found = u16::from_le_bytes([bytes[2], bytes[3]]);
        if found != BATCH_VERSION {
            return Err(BatchError::UnknownVersion { found });
        }
        let (batch, rest) =
            postcard::take_from_bytes::<Self>(&bytes[HEADER_LEN..]).map_err(|e| BatchError::Body(e.to_string()))?;
        if !rest.is_empty() {
            return Err(BatchError::Body(format!("{} bytes after the batch", rest.len())));
        }
        Ok(batch)
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
