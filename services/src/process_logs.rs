//! This process's own log lines, captured for its site's telemetry stream (`agent` and `site` only): the capture
//! layer is installed with the process's tracing at start, before anything could connect, and the lines wait here
//! until the process's shipper drains them.

use std::sync::{Arc, OnceLock};
use telemetry::CapturedLogs;

/// Lines held before the shipper drains them; beyond it lines are counted as dropped, never waited for.
pub const CAPTURE_CAPACITY: usize = 10_000;

static CAPTURED: OnceLock<Arc<CapturedLogs>> = OnceLock::new();

/// Makes the capture layer, keeping its queue for [`captured`].
pub fn capture_layer() -> telemetry::LogCapture {
    let (layer, captured) = telemetry::log_capture(CAPTURE_CAPACITY);
    let _ = CAPTURED.set(Arc::new(captured));
    layer
}

/// The captured lines, if this process captures its logs.
pub fn captured() -> Option<Arc<CapturedLogs>> {
    CAPTURED.get().cloned()
}
