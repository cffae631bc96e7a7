//! A thousand sites at the hub, at the projection: `--fleet-sites` site streams of `--fleet-nodes` nodes each on one
//! server, followed by the same `replay::Projection` the hub keeps. Measures the cold build of the projection (every
//! stream from the start), its memory, the save and restore of its snapshot (what a hub restart reads before the
//! tails), and the reads behind `nodes ls` and `sites ls` on it (p50/p99), with the JSON a full `nodes ls` answer
//! would carry.

use crate::figures::{count, megabytes, rate, secs};
use crate::memory::rss_bytes;
use crate::stream_load::{load, LoadOptions};
use crate::workload::Workload;
use anyhow::Context as _;
use events::subject;
use hdrhistogram::Histogram;
use replay::{LocalStore, Projection, Quarantine, StreamHomes, StreamPolicy};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::NatsServer;

/// Events per node: Registered, Joined, Provisioning, Ready, then one liveness change.
const EVENTS_PER_NODE: u64 = 5;
/// Nodes in one `nodes.list` answer (the API's `NODE_PAGE`).
const NODE_PAGE: usize = 500;
/// Reads timed for each query figure.
const QUERY_ROUNDS: u32 = 30;

/// What the bench is asked to build.
pub struct FleetScale {
    /// Site streams.
    pub sites: u32,
    /// Nodes per site.
    pub nodes_per_site: u32,
}

fn percentiles(histogram: &Histogram<u64>) -> String {
    let ms = |q: f64| Duration::from_micros(histogram.value_at_quantile(q)).as_secs_f64() * 1e3;
    format!("p50 {:.1} ms, p99 {:.1} ms", ms(0.5), ms(0.99))
}

/// Times `read` [`QUERY_ROUNDS`] times.
fn timed<R>(mut read: impl FnMut() -> R) -> anyhow::Result<(Histogram<u64>, R)> {
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).context("histogram bounds")?;
    let mut last = None;
    for _ in 0..QUERY_ROUNDS {
        let started = Instant::now();
        last = Some(std::hint::black_box(read()));
        histogram
            .record((started.elapsed().as_micros() as u64).max(1))
            .context("recording")?;
    }
    last.map(|r| (histogram, r)).context("no rounds")
}

/// One row of `nodes ls`, as plain JSON.
fn node_row(site: &events::Token, id: &events::Token, node: &actors::node::NodeState) -> serde_json::Value {
    serde_json::json!({
        "site": site.as_str(),
        "node": id.as_str(),
        "state": node.lifecycle().to_string(),
        "cluster": node.status.membership.as_ref().map(|m| m.cluster.to_string()),
        "generation": node.spec.generation,
        "observed_generation": node.status.observed_generation,
        "labels": node.spec.labels,
    })
}

impl FleetScale {
    /// Loads the streams, builds the projection and prints every figure.
    pub async fn run(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.sites > 0 && self.nodes_per_site > 0,
            "--fleet-sites and --fleet-nodes must be > 0"
        );
        let server = NatsServer::builder("fleet-scale")
            .jetstream_domain("hub")
            .start()
            .await
            .context("starting the nats-server")?;
        let js = async_nats::jetstream::new(server.connect().await?);
        let policy = StreamPolicy {
            site_max_bytes: 4 << 20,
            ..StreamPolicy::default()
        };
        let per_site = u64::from(self.nodes_per_site) * EVENTS_PER_NODE;
        let load_started = Instant::now();
        let mut streams = Vec::with_capacity(self.sites as usize);
        for i in 0..self.sites {
            let site = testkit::token(&format!("s{i:04}"));
            replay::ensure_site_stream(&js, &site, &policy).await?;
            let workload = Workload::new(&site, self.nodes_per_site);
            let stream = subject::site_stream(&site);
            let options = LoadOptions {
                acks_in_flight: 1024,
                msg_id: true,
            };
            load(
                &js,
                &stream,
                &workload.subjects(),
                site.as_str(),
                &workload.encode(per_site),
                &options,
            )
            .await?;
            streams.push(stream);
        }
        let total = per_site * u64::from(self.sites);
        let nodes = u64::from(self.sites) * u64::from(self.nodes_per_site);
        println!(
            "fleet scale: {} sites × {} nodes = {} nodes, {} events in {} site streams, loaded in {}",
            count(u64::from(self.sites)),
            count(u64::from(self.nodes_per_site)),
            count(nodes),
            count(total),
            count(streams.len() as u64),
            secs(load_started.elapsed()),
        );

        // Cold: a projection following every stream from the start, as a hub without a snapshot does.
        let rss_before = rss_bytes()?;
        let projection = Projection::new(replay::FleetState::new(), Quarantine::in_memory());
        let started = Instant::now();
        let followers: Vec<_> = streams
            .iter()
            .map(|stream| {
                projection.claim(stream);
                tokio::spawn(replay::projection::follow(
                    Arc::clone(&projection),
                    js.clone(),
                    stream.clone(),
                ))
            })
            .collect();
        let behind = |p: &Projection| -> Vec<(String, u64)> {
            streams
                .iter()
                .map(|s| (s.clone(), p.high_water(s)))
                .filter(|(_, seq)| *seq < per_site)
                .collect()
        };
        loop {
            let short = behind(&projection);
            if short.is_empty() {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(120),
                "projection not built within 120 s: {} streams behind, e.g. {:?}",
                short.len(),
                &short[..short.len().min(5)]
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cold = started.elapsed();
        for follower in &followers {
            follower.abort();
        }
        let rss_after = rss_bytes()?;
        let fleet = projection.snapshot();
        anyhow::ensure!(
            fleet.nodes().count() as u64 == nodes,
            "the projection holds {} nodes, expected {nodes}",
            fleet.nodes().count()
        );
        println!(
            "  cold projection build (every stream from the start, one ordered consumer per stream): {} = {} \
             events/s; process RSS grew {} ({} B per node)",
            secs(cold),
            rate(total, cold),
            megabytes(rss_after.saturating_sub(rss_before)),
            rss_after.saturating_sub(rss_before) / nodes.max(1),
        );

        // A restart: the snapshot saved to redb, loaded back and checked against every stream's last sequence.
        let dir = tempfile::tempdir().context("temp dir")?;
        let store = LocalStore::open(&dir.path().join("hub.redb")).context("opening redb")?;
        let started = Instant::now();
        store.save_projection(&fleet).context("saving the projection")?;
        let saved = started.elapsed();
        let homes = StreamHomes::single(js.clone());
        let started = Instant::now();
        let restored = replay::restore_projection(&homes, &store).await.context("restoring")?;
        let restore = started.elapsed();
        anyhow::ensure!(
            restored.nodes().count() as u64 == nodes,
            "the restored projection lost nodes"
        );
        println!(
            "  hub restart: projection snapshot saved in {} ({} in redb), restored and checked against {} streams \
             in {} (then each follower reads only its tail)",
            secs(saved),
            megabytes(std::fs::metadata(dir.path().join("hub.redb")).map_or(0, |m| m.len())),
            count(streams.len() as u64),
            secs(restore),
        );

        // The reads behind `nodes ls` (every node, as JSON rows) and `sites ls` (every site's copy mark).
        let (nodes_ls, json) = timed(|| {
            projection.read(|fleet| {
                let rows: Vec<serde_json::Value> = fleet.nodes().map(|(s, id, n)| node_row(s, id, n)).collect();
                serde_json::to_vec(&rows).map(|bytes| bytes.len()).unwrap_or(0)
            })
        })?;
        let (middle_site, middle_node) = (testkit::token(&format!("s{:04}", self.sites / 2)), testkit::token("n0"));
        let (page, page_json) = timed(|| {
            projection.read(|fleet| {
                let rows: Vec<serde_json::Value> = fleet
                    .nodes_from(Some((&middle_site, &middle_node)), None)
                    .take(NODE_PAGE)
                    .map(|(s, id, n)| node_row(s, id, n))
                    .collect();
                serde_json::to_vec(&rows).map(|bytes| bytes.len()).unwrap_or(0)
            })
        })?;
        let (sites_ls, _) = timed(|| {
            projection.read(|fleet| {
                streams
                    .iter()
                    .map(|s| fleet.high_water.get(s).copied().unwrap_or(0))
                    .sum::<u64>()
            })
        })?;
        println!(
            "  every node over the projection ({} nodes, rows built and encoded as JSON): {}; as one answer it would \
             be {} of JSON, beyond a NATS message, hence pages",
            count(nodes),
            percentiles(&nodes_ls),
            megabytes(json as u64),
        );
        println!(
            "  one nodes.list page ({NODE_PAGE} nodes after a cursor half-way through the fleet, as JSON): {}, {} \
             per page; the CLI's nodes ls reads {} such pages",
            percentiles(&page),
            megabytes(page_json as u64),
            count(nodes.div_ceil(NODE_PAGE as u64)),
        );
        println!(
            "  sites ls over the projection ({} sites' copy marks): {}",
            count(u64::from(self.sites)),
            percentiles(&sites_ls),
        );
        Ok(())
    }
}
