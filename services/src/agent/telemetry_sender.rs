//! The agent's metrics: sampled from the node's `/proc` every `--telemetry-interval-s`, with the agent's own state
//! (boot slot, OS version, last update result), and handed to the site, which stores them in its telemetry stream
//! — oldest first, each kept until the site said it stored it. The site is on the node's LAN and keeps the batches
//! through any hub outage; while the site itself is unreachable the agent keeps up to [`QUEUE_CAP`] batches on disk
//! ([`TelemetryQueue`], beside the disk image, so an agent restart loses none) and counts what it had to drop
//! (`edgefleet_agent_telemetry_dropped_batches_total`, sent with the next batch).

use super::os_apply::OsState;
use super::telemetry_queue::TelemetryQueue;
use crate::agent_protocol::{telemetry_request_subject, TelemetryReply};
use std::path::PathBuf;
use std::time::Duration;
use telemetry::{MetricPoint, NodeSampler};

/// Batches kept while the site cannot be reached: a day at the default interval (about 10 MB on disk).
pub const QUEUE_CAP: u64 = 5_760;

/// Samples the node and sends the samples to its site.
pub struct TelemetrySender {
    interval: Duration,
    disk: PathBuf,
    sampler: NodeSampler,
    queue: TelemetryQueue,
}

impl TelemetrySender {
    /// A sender sampling every `interval` (zero: never), reading the agent's OS state beside `disk` and keeping its
    /// queue there. A queue file that cannot be opened (damaged) is set aside and a new one made, with a warning.
    pub fn new(interval: Duration, disk: PathBuf) -> anyhow::Result<Self> {
        let path = TelemetryQueue::path_beside(&disk);
        let queue = match TelemetryQueue::open(&path, QUEUE_CAP) {
            Ok(queue) => queue,
            Err(e) => {
                let aside = path.with_extension(format!("redb.unreadable-{}", actors::process_clock::system_wall_ms()));
                tracing::warn!(error = %e, aside = %aside.display(), "telemetry queue unreadable; set aside, starting a new one");
                std::fs::rename(&path, &aside)?;
                TelemetryQueue::open(&path, QUEUE_CAP)?
            }
        };
        Ok(Self {
            interval,
            disk,
            sampler: NodeSampler::default(),
            queue,
        })
    }

    /// Samples every interval for the agent's whole life, keeping each batch in the queue whether or not the site
    /// can be reached (zero interval: never).
    pub async fn sample_forever(&self) {
        let mut tick = self.ticker().await;
        loop {
            tick.tick().await;
            self.sample();
        }
    }

    /// Sends what the queue holds, oldest first, at once and then every interval, until dropped (the agent's
    /// session ended).
    pub async fn send_while_connected(&self, client: &async_nats::Client, site: &str, node: &str) {
        let mut tick = self.ticker().await;
        loop {
            tick.tick().await;
            self.flush(client, site, node).await;
        }
    }

    /// A tick every interval, first at once; with a zero interval, never returns.
    async fn ticker(&self) -> tokio::time::Interval {
        if self.interval.is_zero() {
            return std::future::pending().await;
        }
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick
    }

    fn sample(&self) {
        let at_ms = actors::process_clock::system_wall_ms() as i64;
        let sampled = self.sampler.sample(at_ms);
        if !sampled.unreadable.is_empty() {
            tracing::debug!(unreadable = ?sampled.unreadable, "some node metrics could not be read");
        }
        let mut batch = sampled.batch;
        batch.points.extend(self.agent_points());
        let kept = batch
            .encode()
            .map_err(|e| e.to_string())
            .and_then(|bytes| self.queue.push(&bytes).map_err(|e| e.to_string()));
        if let Err(e) = kept {
            tracing::error!(error = %e, "a metric batch could not be kept; lost");
        }
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
            MetricPoint::gauge(
                "edgefleet_agent_telemetry_queued_batches",
                self.queue.len().unwrap_or_default() as f64,
            ),
            MetricPoint::counter(
                "edgefleet_agent_telemetry_dropped_batches_total",
                self.queue.dropped().unwrap_or_default() as f64,
            ),
        ];
        if let Some(slot) = os.slot {
            points.push(MetricPoint::gauge("edgefleet_node_boot_slot", 1.0).with("slot", &slot.to_string()));
        }
        points
    }

    /// Sends the queued batches, oldest first, until one is not taken.
    async fn flush(&self, client: &async_nats::Client, site: &str, node: &str) {
        let subject = telemetry_request_subject(site, node);
        loop {
            let (seq, payload) = match self.queue.front() {
                Ok(Some(front)) => front,
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(error = %e, "the telemetry queue cannot be read; sending waits");
                    return;
                }
            };
            let answer =
                tokio::time::timeout(Duration::from_secs(5), client.request(subject.clone(), payload.into())).await;
            let reply = match answer {
                Ok(Ok(message)) => serde_json::from_slice::<TelemetryReply>(&message.payload).ok(),
                _ => None,
            };
            let removed = match reply {
                Some(TelemetryReply { stored: true, .. }) => self.queue.remove(seq, false),
                Some(TelemetryReply { retry: true, error, .. }) => {
                    tracing::debug!(error = ?error, "the site could not store a metric batch now; it waits");
                    return;
                }
                Some(TelemetryReply { error, .. }) => {
                    // Refused as malformed: sending it again would be refused again.
                    tracing::warn!(error = ?error, "the site refused a metric batch; dropped");
                    self.queue.remove(seq, true)
                }
                None => return, // the site is unreachable or slow: the batch waits for the next tick
            };
            if let Err(e) = removed {
                tracing::error!(error = %e, "the telemetry queue cannot be written; sending waits");
                return;
            }
        }
    }
}
