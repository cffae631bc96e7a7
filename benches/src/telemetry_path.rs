//! Telemetry end to end on real servers: `--telemetry-nodes` simulated nodes × `--telemetry-batches` batches of
//! this machine's real sample (its /proc, one instant per batch) are encoded and stored in a site's `EF_TEL_<site>`
//! (as the site process does for its agents), copied over a leaf link to the hub's copy, and forwarded by
//! `telemetry::forward_round` to a real Prometheus; the run ends when the hub's cursor has every sample.
//!
//! Prints samples per second through the whole path, and through its hub half alone once everything is stored (a
//! backlog after a cut), against the raw limit measured in the same run: the same samples remote-written straight to
//! a second, fresh Prometheus with nothing in between (ratio = path / raw).
//! Also bytes per sample: the framed batch alone, and as the site's stream stores it (JetStream's per-message
//! overhead — subject, headers, index — included).

use crate::figures::{count, secs};
use anyhow::{bail, Context as _};
use std::time::{Duration, Instant};
use telemetry::telemetry_streams::{ensure_hub_telemetry_copy, ensure_site_telemetry_stream, stream_state};
use telemetry::{forward_round, series_of, ForwardCursor, MetricBatch, NodeSampler, PrometheusServer, TelemetryLimits};
use testkit::{token, NatsServer};

/// What the bench is asked to run.
pub struct TelemetryPath {
    /// Simulated nodes at the site.
    pub nodes: u32,
    /// Batches each node stores.
    pub batches: u32,
}

impl TelemetryPath {
    /// Runs the bench and prints its figures.
    pub async fn run(&self) -> anyhow::Result<()> {
        let dir = tempfile::tempdir().context("temp dir")?;
        let sample = NodeSampler::default().sample(0).batch;
        let series_per_batch = sample.points.len() as u64;
        let start_ms = actors::process_clock::system_wall_ms() as i64 - i64::from(self.batches) * 1000 - 60_000;
        let batches: Vec<(String, MetricBatch)> = (0..self.batches)
            .flat_map(|i| {
                let sample = &sample;
                (0..self.nodes).map(move |n| {
                    let batch = MetricBatch {
                        at_ms: start_ms + i64::from(i) * 1000,
                        points: sample.points.clone(),
                    };
                    (format!("n{n}"), batch)
                })
            })
            .collect();
        let samples = batches.len() as u64 * series_per_batch;
        println!(
            "telemetry: {} nodes × {} batches of this machine's {series_per_batch} series = {} samples",
            self.nodes,
            self.batches,
            count(samples)
        );

        // The raw limit: the same samples written straight to a fresh Prometheus, per node in chunks of 256 batches.
        let raw_prometheus = PrometheusServer::start(
            &dir.path().join("raw"),
            Duration::from_secs(86_400),
            &[],
            Duration::from_secs(60),
        )
        .await
        .context("prometheus")?;
        let raw_started = Instant::now();
        for node in 0..self.nodes {
            let name = format!("n{node}");
            let mine: Vec<MetricBatch> = batches
                .iter()
                .filter(|(n, _)| n == &name)
                .map(|(_, b)| b.clone())
                .collect();
            for chunk in mine.chunks(256) {
                let series = series_of("bench", &name, chunk);
                match telemetry::remote_write::write(
                    raw_prometheus.client(),
                    &raw_prometheus.remote_write_url(),
                    &series,
                    Duration::from_secs(60),
                )
                .await
                {
                    telemetry::WriteOutcome::Accepted => {}
                    other => bail!("raw remote write: {other:?}"),
                }
            }
        }
        let raw = raw_started.elapsed();
        drop(raw_prometheus);

        // The path: site stream → leaf sourcing → hub copy → forwarder → Prometheus.
        let prometheus = PrometheusServer::start(
            &dir.path().join("path"),
            Duration::from_secs(86_400),
            &[],
            Duration::from_secs(60),
        )
        .await
        .context("prometheus")?;
        let hub = NatsServer::hub().await.context("hub server")?;
        let leaf = hub.leaf_url().context("hub leaf url")?;
        let site_server = NatsServer::builder("bench")
            .jetstream_domain("bench")
            .sync_always()
            .leaf_remote(&leaf)
            .start()
            .await
            .context("site server")?;
        let site_js = async_nats::jetstream::new(site_server.connect().await?);
        let hub_js = async_nats::jetstream::new(hub.connect().await?);
        let site = token("bench");
        ensure_site_telemetry_stream(&site_js, &site, TelemetryLimits::default()).await?;
        ensure_hub_telemetry_copy(&hub_js, &site, TelemetryLimits::default()).await?;

        let started = Instant::now();
        let mut framed_bytes = 0u64;
        let mut acks = Vec::with_capacity(batches.len());
        for (node, batch) in &batches {
            let payload = batch.encode()?;
            framed_bytes += payload.len() as u64;
            let ack = site_js
                .publish(format!("ef.tel.bench.{node}.metrics"), payload.into())
                .await
                .context("publish")?;
            acks.push(ack);
            if acks.len() >= 512 {
                for ack in acks.drain(..) {
                    ack.await.context("stored at the site")?;
                }
            }
        }
        for ack in acks.drain(..) {
            ack.await.context("stored at the site")?;
        }
        let stored = started.elapsed();
        let site_state = stream_state(&site_js, "EF_TEL_bench").await?.context("site stream")?;

        let mut cursor = ForwardCursor::default();
        let endpoint = prometheus.remote_write_url();
        let deadline = Instant::now() + Duration::from_secs(600);
        while cursor.delivered_samples < samples {
            if Instant::now() > deadline {
                bail!("forwarding did not finish within 10 minutes: {cursor:?}");
            }
            let report = forward_round(
                &hub_js,
                &site,
                prometheus.client(),
                &endpoint,
                &mut cursor,
                Duration::from_secs(60),
            )
            .await?;
            if let Some(reason) = report.retry {
                bail!("remote write to retry: {reason}");
            }
            if report.batches == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let path = started.elapsed();
        if cursor.dropped.total() > 0 || cursor.refused_samples > 0 {
            bail!("samples lost on the way: {cursor:?}");
        }
        let per_sample = |bytes: u64| bytes as f64 / samples as f64;
        println!(
            "  stored at the site (encode + publish, fsync per write): {} = {} batches/s",
            secs(stored),
            count((batches.len() as f64 / stored.as_secs_f64()) as u64)
        );
        println!(
            "  bytes per sample: {:.1} framed, {:.1} as the site's stream stores it ({} MB for {} batches)",
            per_sample(framed_bytes),
            per_sample(site_state.bytes),
            site_state.bytes / 1_000_000,
            count(batches.len() as u64)
        );
        let path_rate = samples as f64 / path.as_secs_f64();
        let raw_rate = samples as f64 / raw.as_secs_f64();
        let forwarded = path.saturating_sub(stored);
        let forward_rate = samples as f64 / forwarded.as_secs_f64();
        println!(
            "  raw remote write of the same samples straight to Prometheus: {} = {} samples/s",
            secs(raw),
            count(raw_rate as u64)
        );
        println!(
            "  batch → site stream → hub copy → Prometheus, all of it: {} = {} samples/s (path / raw = {:.2})",
            secs(path),
            count(path_rate as u64),
            path_rate / raw_rate
        );
        println!(
            "  of which copying and forwarding once all was stored (a backlog after a cut): {} = {} samples/s \
             (/ raw = {:.2})",
            secs(forwarded),
            count(forward_rate as u64),
            forward_rate / raw_rate
        );
        Ok(())
    }
}
