//! [`LogShipper`]: turns a process's captured log lines into batches for its site's telemetry stream, each sent
//! again unchanged, under the same id, until it is stored — so a resend after a lost answer is stored once
//! (`Nats-Msg-Id`) and no line is sent in two batches. Lines that could not be kept (the capture queue or this
//! queue full) are counted and said in a line of their own, never dropped silently.

use std::collections::VecDeque;
use std::sync::Arc;
use telemetry::{CapturedLogs, LogBatch, LogLevel, LogLine};

/// Lines held while the site's stream cannot be reached.
pub const QUEUE_CAP: usize = 20_000;
/// Lines per batch at most.
pub const BATCH_LINES: usize = 500;

/// Batches of one process's log lines.
pub struct LogShipper {
    captured: Arc<CapturedLogs>,
    queue: VecDeque<LogLine>,
    captured_dropped_said: u64,
    dropped_here: u64,
    run: String,
    next_batch: u64,
    in_flight: Option<(String, Vec<u8>)>,
}

impl LogShipper {
    /// A shipper of `captured`.
    pub fn new(captured: Arc<CapturedLogs>) -> Self {
        let run = format!("{}-{}", std::process::id(), actors::process_clock::system_wall_ms());
        Self {
            captured,
            queue: VecDeque::new(),
            captured_dropped_said: 0,
            dropped_here: 0,
            run,
            next_batch: 0,
            in_flight: None,
        }
    }

    /// The batch to send now, as (id, framed bytes): the one in flight, or the next one of the lines captured so
    /// far (`None`: nothing to send).
    pub fn batch(&mut self) -> Option<(String, Vec<u8>)> {
        self.take_captured();
        if self.in_flight.is_none() && !self.queue.is_empty() {
            let n = self.queue.len().min(BATCH_LINES);
            let lines: Vec<LogLine> = self.queue.drain(..n).collect();
            match (LogBatch { lines }).encode() {
                Ok(bytes) => {
                    self.in_flight = Some((format!("{}-{}", self.run, self.next_batch), bytes));
                    self.next_batch += 1;
                }
                Err(e) => {
                    self.dropped_here += n as u64;
                    eprintln!("log lines not encoded ({e}); {n} lines dropped");
                }
            }
        }
        self.in_flight.clone()
    }

    /// The batch in flight was stored.
    pub fn stored(&mut self) {
        self.in_flight = None;
    }

    fn take_captured(&mut self) {
        for line in self.captured.drain(QUEUE_CAP) {
            if self.queue.len() >= QUEUE_CAP {
                self.queue.pop_front();
                self.dropped_here += 1;
            }
            self.queue.push_back(line);
        }
        let dropped = self.captured.dropped() + self.dropped_here;
        if dropped > self.captured_dropped_said {
            self.queue.push_back(LogLine {
                at_ms: actors::process_clock::system_wall_ms() as i64,
                level: LogLevel::Warn,
                target: "edgefleet::log_shipper".into(),
                message: format!(
                    "{} log lines dropped: more were logged than could be held while the site's stream was \
                     unreachable",
                    dropped - self.captured_dropped_said
                ),
                fields: vec![("dropped_total".into(), dropped.to_string())],
            });
            self.captured_dropped_said = dropped;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn a_batch_goes_again_unchanged_until_stored_then_the_next() {
        let (layer, captured) = telemetry::log_capture(100);
        let mut shipper = LogShipper::new(Arc::new(captured));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("first");
            let first = shipper.batch().expect("a batch");
            tracing::info!("second");
            assert_eq!(shipper.batch(), Some(first.clone()), "unchanged until stored");
            shipper.stored();
            let second = shipper.batch().expect("the next batch");
            assert_ne!(second.0, first.0, "a batch id of its own");
            let lines = |bytes: &[u8]| -> Vec<String> {
                LogBatch::decode(bytes)
                    .expect("decodes")
                    .lines
                    .into_iter()
                    .map(|l| l.message)
                    .collect()
            };
            assert_eq!(lines(&first.1), vec!["first"]);
            assert_eq!(lines(&second.1), vec!["second"]);
            shipper.stored();
            assert_eq!(shipper.batch(), None);
        });
    }

    #[test]
    fn lines_that_could_not_be_held_are_said_in_a_line_of_their_own() {
        let (layer, captured) = telemetry::log_capture(1);
        let mut shipper = LogShipper::new(Arc::new(captured));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..3 {
                tracing::info!(i, "line");
            }
        });
        let (_, bytes) = shipper.batch().expect("a batch");
        let lines = LogBatch::decode(&bytes).expect("decodes").lines;
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].level, LogLevel::Warn);
        assert!(
            lines[1].message.starts_with("2 log lines dropped"),
            "{}",
            lines[1].message
        );
    }
}
