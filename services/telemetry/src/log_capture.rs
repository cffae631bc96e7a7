//! [`LogCapture`]: a `tracing` layer that keeps a process's log lines as structured [`LogLine`]s for shipping to
//! the site's telemetry stream, beside whatever the process prints on stderr. Capturing never blocks the logging
//! thread: lines go into a bounded queue, and what does not fit is counted ([`CapturedLogs::dropped`]), never
//! waited for.

use crate::log_batch::{LogLevel, LogLine};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// The layer; install it with a level filter (`.with_filter(LevelFilter::INFO)`).
pub struct LogCapture {
    sender: SyncSender<LogLine>,
    dropped: Arc<AtomicU64>,
}

/// The captured lines, drained by whoever ships them.
pub struct CapturedLogs {
    receiver: Mutex<Receiver<LogLine>>,
    dropped: Arc<AtomicU64>,
}

/// A capture layer and its queue, holding up to `capacity` lines until they are drained.
pub fn log_capture(capacity: usize) -> (LogCapture, CapturedLogs) {
    let (sender, receiver) = sync_channel(capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    (
        LogCapture {
            sender,
            dropped: dropped.clone(),
        },
        CapturedLogs {
            receiver: Mutex::new(receiver),
            dropped,
        },
    )
}

impl CapturedLogs {
    /// Up to `max` captured lines, oldest first.
    pub fn drain(&self, max: usize) -> Vec<LogLine> {
        let Ok(receiver) = self.receiver.lock() else {
            return Vec::new();
        };
        receiver.try_iter().take(max).collect()
    }

    /// Lines that did not fit in the queue since the process started.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl<S: Subscriber> Layer<S> for LogCapture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let mut visitor = LineVisitor::default();
        event.record(&mut visitor);
        let level = match *metadata.level() {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::TRACE => LogLevel::Trace,
        };
        let line = LogLine {
            at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default(),
            level,
            target: metadata.target().to_string(),
            message: visitor.message,
            fields: visitor.fields,
        };
        match self.sender.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Collects an event's message and fields as text.
#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for LineVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name().to_string(), text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn events_become_structured_lines_and_overflow_is_counted() {
        let (layer, captured) = log_capture(2);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(node = "n1", attempt = 3, "site controller unreachable; retrying");
            tracing::info!(target: "edgefleet::site", "node joined");
            tracing::error!("this one does not fit");
        });
        let lines = captured.drain(10);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].level, LogLevel::Warn);
        assert_eq!(lines[0].message, "site controller unreachable; retrying");
        assert_eq!(
            lines[0].fields,
            vec![
                ("node".to_string(), "n1".to_string()),
                ("attempt".to_string(), "3".to_string())
            ]
        );
        assert_eq!(lines[1].target, "edgefleet::site");
        assert_eq!(captured.dropped(), 1);
        assert!(captured.drain(10).is_empty());
    }
}
