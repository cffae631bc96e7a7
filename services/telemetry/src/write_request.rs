//! Prometheus remote-write 1.0 bodies: the `prometheus.WriteRequest` protobuf, snappy-compressed (block format).
//!
//! The message is small and fixed, so it is written by hand rather than generated:
//! `WriteRequest { repeated TimeSeries timeseries = 1; }`, `TimeSeries { repeated Label labels = 1; repeated Sample
//! samples = 2; }`, `Label { string name = 1; string value = 2; }`, `Sample { double value = 1; int64 timestamp = 2;
//! }`.

use std::collections::BTreeMap;

/// One series and its samples, ready to write.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Labels, `__name__` among them; sorted by name and unique (what Prometheus requires).
    pub labels: Vec<(String, String)>,
    /// (timestamp in ms since the epoch, value), oldest first.
    pub samples: Vec<(i64, f64)>,
}

impl Series {
    /// A series of `name` with `labels` (sorted here; of a label given twice the first is kept).
    pub fn new(name: &str, labels: &[(&str, &str)]) -> Self {
        let mut sorted: BTreeMap<String, String> = BTreeMap::new();
        sorted.insert("__name__".to_string(), name.to_string());
        for (k, v) in labels {
            sorted.entry(k.to_string()).or_insert_with(|| v.to_string());
        }
        Self {
            labels: sorted.into_iter().collect(),
            samples: Vec::new(),
        }
    }
}

/// The protobuf bytes of a `WriteRequest` holding `series`.
pub fn encode(series: &[Series]) -> Vec<u8> {
    let mut out = Vec::with_capacity(series.len() * 96);
    let mut buf = Vec::with_capacity(256);
    for s in series {
        buf.clear();
        for (name, value) in &s.labels {
            let mut label = Vec::with_capacity(name.len() + value.len() + 4);
            bytes_field(&mut label, 1, name.as_bytes());
            bytes_field(&mut label, 2, value.as_bytes());
            bytes_field(&mut buf, 1, &label);
        }
        for &(timestamp, value) in &s.samples {
            let mut sample = Vec::with_capacity(20);
            sample.push(1 << 3 | 1); // field 1, 64-bit
            sample.extend_from_slice(&value.to_le_bytes());
            sample.push(2 << 3); // field 2, varint
            varint(&mut sample, timestamp as u64);
            bytes_field(&mut buf, 2, &sample);
        }
        bytes_field(&mut out, 1, &buf);
    }
    out
}

/// `encode`d and snappy-compressed: the body of a remote-write POST.
pub fn body(series: &[Series]) -> Vec<u8> {
    let raw = encode(series);
    // Compressing into a buffer of the maximum compressed length cannot fail; an input beyond snappy's 4 GiB limit
    // cannot be built from a batch of samples. If it ever did, sending it uncompressed-as-literals would still be
    // valid snappy, so fall back to that rather than panic.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_else(|_| literal_snappy(&raw))
}

fn literal_snappy(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 60 + 16);
    varint(&mut out, raw.len() as u64);
    for chunk in raw.chunks(60) {
        out.push(((chunk.len() - 1) as u8) << 2);
        out.extend_from_slice(chunk);
    }
    out
}

fn bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, field << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_the_hand_checked_experiment_does() {
        // The bytes `../shared/experiments/prometheus-ooo.py` writes for {__name__="node_load1", node="n1",
        // site="s1"} with the one sample (1.0 @ 1000), which Prometheus 2.42 accepted.
        let mut series = Series::new("node_load1", &[("site", "s1"), ("node", "n1")]);
        series.samples.push((1000, 1.0));
        let expected: Vec<u8> = [
            &[0x0a, 0x3e][..],
            &[0x0a, 0x16, 0x0a, 0x08],
            b"__name__",
            &[0x12, 0x0a],
            b"node_load1",
            &[0x0a, 0x0a, 0x0a, 0x04],
            b"node",
            &[0x12, 0x02],
            b"n1",
            &[0x0a, 0x0a, 0x0a, 0x04],
            b"site",
            &[0x12, 0x02],
            b"s1",
            &[0x12, 0x0c, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0xe8, 0x07],
        ]
        .concat();
        assert_eq!(encode(&[series]), expected);
    }

    #[test]
    fn labels_are_sorted_and_unique() {
        let series = Series::new("m", &[("z", "1"), ("a", "2"), ("a", "3")]);
        let names: Vec<&str> = series.labels.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, vec!["__name__", "a", "z"]);
        assert_eq!(series.labels[1].1, "2");
    }

    #[test]
    fn the_body_is_snappy_that_decodes_to_the_protobuf() {
        let mut series = Series::new("node_load1", &[("site", "s1")]);
        series
            .samples
            .extend((0..100).map(|i| (1_790_000_000_000 + i * 15_000, i as f64)));
        let raw = encode(std::slice::from_ref(&series));
        let compressed = body(&[series]);
        assert!(compressed.len() < raw.len());
        assert_eq!(
            snap::raw::Decoder::new().decompress_vec(&compressed).ok(),
            Some(raw.clone())
        );
        assert_eq!(
            snap::raw::Decoder::new().decompress_vec(&literal_snappy(&raw)).ok(),
            Some(raw)
        );
    }
}
