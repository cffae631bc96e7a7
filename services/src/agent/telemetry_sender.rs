//! The agent's metrics: sampled from the node's `/proc` every `--telemetry-interval-s`, with the agent's own state
//! (boot slot, OS version, last update result), and handed to the site, which stores them in its telemetry stream
//! — oldest first, each kept until the site said it stored it. The site is on the node's LAN and keeps the batches
//! through any hub outage; while the site itself is unreachable the agent holds up to [`QUEUE_CAP`] batches and
//! counts what it had to drop (`edgefleet_agent_telemetry_dropped_batches_total`, sent with the next batch).

use super::os_apply::OsState;
use crate::agent_protocol::{telemetry_request_subject, TelemetryReply};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;
use telemetry::{MetricBatch, MetricPoint, NodeSampler};

/// Batches held while the site cannot be reached: an hour at the default interval.
pub const QUEUE_CAP: usize = 240;

/// Samples the node and sends the samples to its site.
pub struct TelemetrySender {
    interval: Duration,
    disk: PathBuf,
    sampler: NodeSampler,
    queue: VecDeque<MetricBatch>,
    dropped: u64,
}

impl TelemetrySender {
    /// A sender sampling every `interval` (zero: never), reading the agent's OS state beside `disk`.
    pub fn new(interval: Duration, disk: PathBuf) -> Self {
        Self {
            interval,
            disk,
            sampler: NodeSampler::default(),
            queue: VecDeque::new(),
            dropped: 0,
        }
    }

    /// Samples and sends until dropped (the agent's session ended).
    pub async fn run(&mut self, client: &async_nats::Client, site: &str, node: &str) {
        if self.interval.is_zero() {
            return std::future::pending().await;
        }
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.sample();
            self.flush(client, site, node).await;
        }
    }

    fn sample(&mut self) {
        let at_ms = actors::process_clock::system_wall_ms() as i64;
        let sampled = self.sampler.sample(at_ms);
        if !sampled.unreadable.is_empty() {
            tracing::debug!(unreadable = ?sampled.unreadable, "some node metrics could not be read");
        }
        let mut batch = sampled.batch;
        batch.points.extend(self.agent_points());
        if self.queue.len() >= QUEUE_CAP {
            self.queue.pop_front();
            self.dropped += 1;
        }
        self.queue.push_back(batch);
    }

    /// The agent's own state, as series.
    fn agent_points(&self) -> Vec<MetricPoint> {
        let os = OsState::load(&self.disk).report(&self.disk);
        let mut points = vec![
            MetricPoint::gauge("edgefleet_node_os_info", 1.0)
                .with("version", os.version.as_deref().unwrap_or("bootstrap")),
            MetricPoint::gauge(
                "edgefleet_node_last_update_ok",
                if os.failure.is_some() { 0.0 } else { 1.0 },
            ),
            MetricPoint::gauge("edgefleet_agent_telemetry_queued_batches", self.queue.len() as f64),
            MetricPoint::counter("edgefleet_agent_telemetry_dropped_batches_total", self.dropped as f64),
        ];
        if let Some(slot) = os.slot {
            points.push(MetricPoint::gauge("edgefleet_node_boot_slot", 1.0).with("slot", &slot.to_string()));
        }
        points
    }

    /// Sends the queued batches, oldest first, until one is not taken.
    async fn flush(&mut self, client: &async_nats::Client, site: &str, node: &str) {
        let subject = telemetry_request_subject(site, node);
        while let Some(batch) = self.queue.front() {
            let payload = match batch.encode() {
                Ok(payload) => payload,
                Err(e) => {
                    tracing::error!(error = %e, "a metric batch could not be encoded; dropped");
                    self.queue.pop_front();
                    self.dropped += 1;
                    continue;
                }
            };
            let answer =
                tokio::time::timeout(Duration::from_secs(5), client.request(subject.clone(), payload.into())).await;
            let reply = match answer {
                Ok(Ok(message)) => serde_json::from_slice::<TelemetryReply>(&message.payload).ok(),
                _ => None,
            };
            match reply {
                Some(TelemetryReply { stored: true, .. }) => {
                    self.queue.pop_front();
                }
                Some(TelemetryReply { retry: true, error, .. }) => {
                    tracing::debug!(error = ?error, "the site could not store a metric batch now; it waits");
                    return;
                }
                Some(TelemetryReply { error, .. }) => {
                    // Refused as malformed: sending it again would be refused again.
                    tracing::warn!(error = ?error, "the site refused a metric batch; dropped");
                    self.queue.pop_front();
                    self.dropped += 1;
                }
                None => return, // the site is unreachable or slow: the batch waits for the next tick
            }
        }
    }
}
