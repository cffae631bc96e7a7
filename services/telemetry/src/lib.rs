//! edgefleet telemetry: node metrics sampled from the real `/proc` ([`NodeSampler`]), framed compactly
//! ([`MetricBatch`]) for the site's telemetry stream, and delivered to any Prometheus remote-write endpoint
//! ([`remote_write`]); plus a real Prometheus process ([`PrometheusServer`]) for the demo and the tests.

pub mod batch_series;
pub mod copy_reader;
pub mod cursor_store;
pub mod exposition;
pub mod forward_cursor;
pub mod forwarder;
pub mod http_client;
pub mod log_batch;
pub mod log_capture;
pub mod metric_batch;
pub mod metric_window;
pub mod metrics_server;
pub mod node_sampler;
pub mod proc_text;
pub mod prometheus_process;
pub mod recent_series;
pub mod remote_write;
pub mod snappy_frame;
pub mod telemetry_streams;
pub mod write_request;

pub use batch_series::series_of;
pub use forward_cursor::ForwardCursor;
pub use forwarder::{forward_round, ForwardError, RoundReport};
pub use http_client::HttpClient;
pub use log_batch::{LogBatch, LogBatchError, LogLevel, LogLine};
pub use log_capture::{log_capture, CapturedLogs, LogCapture};
pub use metric_batch::{BatchError, MetricBatch, MetricPoint, MetricType};
pub use node_sampler::{NodeSampler, Sampled};
pub use prometheus_process::{find_prometheus, PrometheusError, PrometheusServer, ScrapeTarget};
pub use remote_write::WriteOutcome;
pub use telemetry_streams::{TelemetryLimits, TelemetryStreamError};
pub use write_request::Series;
