//! A real `edgefleet hub` process holding `--live-sites` live sites: the sites added one after another through the
//! API (`sites.add`: an account, a bundle and a sourced copy each), then every site beaconing once a second over its
//! own connection into its account for `--beacon-seconds`, while the admin times `sites ls` and `sites get`.
//! Measures the adds per second, the beacons' answer latency (p50/p99/max, timeouts), the API reads with every site
//! live, and what the hub process and its nats-server cost: resident memory before, after the adds and during the
//! beacons, and CPU over the beacon period.
//!
//! No site runs a server, so no leaf link is up: the hub's copies of the site streams have nothing to copy, and
//! their sources keep retrying inside the hub's nats-server as they would with every site cut off.

use crate::figures::{count, megabytes, secs};
use crate::hub_process::{api_request, HubProcess};
use crate::process_stats::{cpu_time_of, percent_of_a_core, rss_of};
use crate::site_beacons::{self, BeaconFigures, SiteClient, BEACON_TIMEOUT};
use anyhow::Context as _;
use bytes::Bytes;
use hdrhistogram::Histogram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Reads timed for each API figure.
const QUERY_ROUNDS: u32 = 30;
/// Site connections being opened at once.
const CONNECTS_IN_FLIGHT: usize = 50;

/// What the bench is asked to run.
pub struct LiveSites {
    /// Sites added and beaconing.
    pub sites: u32,
    /// Seconds of beacons measured.
    pub beacon_seconds: u64,
    /// The `edgefleet` binary (default: next to the bench's own executable).
    pub edgefleet: Option<PathBuf>,
}

/// Resident memory of the hub process and of its nats-server.
#[derive(Clone, Copy, Default)]
struct HubMemory {
    hub: u64,
    nats_server: u64,
}

impl HubMemory {
    fn read(hub: u32, nats_server: u32) -> anyhow::Result<Self> {
        Ok(Self {
            hub: rss_of(hub)?,
            nats_server: rss_of(nats_server)?,
        })
    }

    fn max(self, other: Self) -> Self {
        Self {
            hub: self.hub.max(other.hub),
            nats_server: self.nats_server.max(other.nats_server),
        }
    }
}

/// CPU time used so far by the hub, its nats-server and the bench itself.
struct CpuTimes {
    hub: Duration,
    nats_server: Duration,
    bench: Duration,
}

impl CpuTimes {
    fn read(hub: u32, nats_server: u32) -> anyhow::Result<Self> {
        Ok(Self {
            hub: cpu_time_of(hub)?,
            nats_server: cpu_time_of(nats_server)?,
            bench: cpu_time_of(std::process::id())?,
        })
    }
}

/// The API reads timed while the beacons run.
struct ApiReads {
    list: Histogram<u64>,
    list_bytes: usize,
    listed: usize,
    connected: usize,
    get: Histogram<u64>,
    get_bytes: usize,
}

/// `1234` µs → `1.2 ms`; below a millisecond with two decimals.
fn millis(micros: u64) -> String {
    let ms = micros as f64 / 1e3;
    if ms < 1.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn latencies(histogram: &Histogram<u64>) -> String {
    format!(
        "p50 {}, p99 {}, max {}",
        millis(histogram.value_at_quantile(0.5)),
        millis(histogram.value_at_quantile(0.99)),
        millis(histogram.max()),
    )
}

/// Growth from `before` to `after` per site, in KB (10^3 B).
fn per_site_kb(before: u64, after: u64, sites: u64) -> f64 {
    after.saturating_sub(before) as f64 / 1e3 / sites.max(1) as f64
}

fn kilobytes(bytes: u64) -> String {
    format!("{:.0} KB", bytes as f64 / 1e3)
}

fn beacon_line(figures: &BeaconFigures) -> String {
    let mut line = format!(
        "{} answered, {}, {} timed out (> {} s)",
        count(figures.answered.len()),
        latencies(&figures.answered),
        count(figures.timed_out),
        BEACON_TIMEOUT.as_secs(),
    );
    if figures.failed > 0 {
        line.push_str(&format!(
            ", {} failed (last: {})",
            count(figures.failed),
            figures.last_failure.as_deref().unwrap_or("?")
        ));
    }
    line
}

/// Timeouts and p99 of each second's beacons: how long the hub takes to settle.
fn by_second_line(figures: &BeaconFigures) -> String {
    let timed_out: Vec<String> = figures.by_second.iter().map(|s| s.timed_out.to_string()).collect();
    let p99: Vec<String> = figures
        .by_second
        .iter()
        .map(|s| {
            let ms = s.answered.value_at_quantile(0.99) as f64 / 1e3;
            if ms < 9.95 {
                format!("{ms:.1}")
            } else {
                format!("{ms:.0}")
            }
        })
        .collect();
    format!("timed out {}; p99 (ms) {}", timed_out.join(" "), p99.join(" "))
}

/// Adds `ids` one after another through `sites.add`; the time of each add.
async fn add_sites(admin: &async_nats::Client, ids: &[String]) -> anyhow::Result<Vec<Duration>> {
    let mut took = Vec::with_capacity(ids.len());
    let step = (ids.len() / 10).max(1);
    for (i, id) in ids.iter().enumerate() {
        let body = serde_json::to_vec(&serde_json::json!({"id": id, "tls_names": []}))?;
        let started = Instant::now();
        let reply = api_request(admin, "sites.add", body.into())
            .await
            .with_context(|| format!("adding site {id}"))?;
        took.push(started.elapsed());
        let bundle: serde_json::Value =
            serde_json::from_slice(&reply).with_context(|| format!("site {id}'s bundle is not JSON"))?;
        anyhow::ensure!(
            bundle.get("site").and_then(|s| s.as_str()) == Some(id.as_str()),
            "sites.add {id} answered a bundle for {:?}",
            bundle.get("site")
        );
        if (i + 1) % step == 0 {
            eprintln!("live sites: {} of {} added", i + 1, ids.len());
        }
    }
    Ok(took)
}

/// p50/p99/max of the adds, and the mean of the first and last tenth (does an add slow down as sites pile up?).
fn add_latencies(took: &[Duration]) -> String {
    let mut sorted = took.to_vec();
    sorted.sort();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let tenth = (took.len() / 10).max(1);
    let mean = |slice: &[Duration]| slice.iter().sum::<Duration>() / u32::try_from(slice.len()).unwrap_or(1);
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
    format!(
        "each add p50 {}, p99 {}, max {}; mean of the first tenth {}, of the last tenth {}",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(sorted[sorted.len() - 1]),
        ms(mean(&took[..tenth])),
        ms(mean(&took[took.len() - tenth..])),
    )
}

/// Times `sites.list` and `sites.get {site}` [`QUERY_ROUNDS`] times each, spread over `period`.
async fn time_api_reads(admin: &async_nats::Client, site: &str, period: Duration) -> anyhow::Result<ApiReads> {
    let new_histogram = || Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).context("histogram bounds");
    let (mut list, mut get) = (new_histogram()?, new_histogram()?);
    let get_body = Bytes::from(serde_json::to_vec(&serde_json::json!({ "id": site }))?);
    let pause = period / (QUERY_ROUNDS + 1);
    let (mut last_list, mut last_get) = (Bytes::new(), Bytes::new());
    for _ in 0..QUERY_ROUNDS {
        tokio::time::sleep(pause).await;
        let started = Instant::now();
        last_list = api_request(admin, "sites.list", Bytes::from_static(b"{}")).await?;
        list.saturating_record((started.elapsed().as_micros() as u64).max(1));
        let started = Instant::now();
        last_get = api_request(admin, "sites.get", get_body.clone()).await?;
        get.saturating_record((started.elapsed().as_micros() as u64).max(1));
    }
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&last_list).context("sites.list is not a JSON array")?;
    let connected = rows
        .iter()
        .filter(|row| row.get("connection").and_then(|c| c.as_str()) == Some("connected"))
        .count();
    Ok(ApiReads {
        list,
        list_bytes: last_list.len(),
        listed: rows.len(),
        connected,
        get,
        get_bytes: last_get.len(),
    })
}

/// The highest resident memory of the hub and its nats-server, sampled once a second for `period`.
async fn peak_memory(hub: u32, nats_server: u32, period: Duration) -> anyhow::Result<HubMemory> {
    let mut peak = HubMemory::read(hub, nats_server)?;
    let started = Instant::now();
    while started.elapsed() < period {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peak = peak.max(HubMemory::read(hub, nats_server)?);
    }
    Ok(peak)
}

impl LiveSites {
    /// The `edgefleet` binary the hub runs from: `--edgefleet`, or the one next to the bench's own executable.
    pub fn hub_binary(&self) -> anyhow::Result<PathBuf> {
        let binary = match &self.edgefleet {
            Some(path) => path.clone(),
            None => std::env::current_exe()
                .context("the bench's own path")?
                .with_file_name("edgefleet"),
        };
        anyhow::ensure!(
            binary.is_file(),
            "no edgefleet binary at {} (build it with `cargo build --release -p edgefleet`, or pass --edgefleet PATH)",
            binary.display()
        );
        Ok(binary)
    }

    /// Starts the hub, adds the sites, runs the beacons and prints every figure.
    pub async fn run(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.sites > 0, "--live-sites must be at least 1");
        anyhow::ensure!(self.beacon_seconds > 0, "--beacon-seconds must be at least 1");
        let binary = self.hub_binary()?;
        let n = u64::from(self.sites);

        let started = Instant::now();
        let mut hub = HubProcess::spawn(&binary)?;
        let admin = hub.admin_when_ready().await?;
        let (hub_pid, nats_pid) = (hub.pid(), hub.nats_server_pid()?);
        println!(
            "live sites: {} as a hub (RUST_LOG=warn, its own nats-server with fsync per write), answering its API \
             {} after start",
            binary.display(),
            secs(started.elapsed()),
        );
        let before = HubMemory::read(hub_pid, nats_pid)?;

        let ids: Vec<String> = (1..=self.sites).map(|i| format!("site-{i:04}")).collect();
        let started = Instant::now();
        let took = add_sites(&admin, &ids).await?;
        let added_in = started.elapsed();
        let added = HubMemory::read(hub_pid, nats_pid)?;
        println!(
            "  live sites: {} added in {} ({:.1} sites/s; sequential sites.add, each an account, a bundle and a \
             sourced copy); {}",
            count(n),
            secs(added_in),
            crate::figures::per_second(n, added_in),
            add_latencies(&took),
        );

        let started = Instant::now();
        let clients: Vec<SiteClient> = site_beacons::connect_all(&ids, CONNECTS_IN_FLIGHT, |site| {
            let creds = hub.hub_in_site_creds(&site);
            let hub = &hub;
            async move { hub.connect(&format!("bench-{site}"), &creds, None).await }
        })
        .await?;
        println!(
            "  {} site connections (the hub's user in each site's account, TLS, {CONNECTS_IN_FLIGHT} opened at a \
             time) in {}",
            count(clients.len() as u64),
            secs(started.elapsed()),
        );

        let started = Instant::now();
        let first = site_beacons::run(&clients, 1).await?;
        println!(
            "  first beacon of each site, spread over 1 s (the hub marks the site up and resumes its copy: two \
             stream updates each): {}; all done in {}",
            beacon_line(&first),
            secs(started.elapsed()),
        );

        let period = Duration::from_secs(self.beacon_seconds);
        let cpu_before = CpuTimes::read(hub_pid, nats_pid)?;
        let started = Instant::now();
        let (beacons, reads, pages, peak) = tokio::join!(
            site_beacons::run(&clients, self.beacon_seconds),
            time_api_reads(&admin, &ids[ids.len() / 2], period),
            crate::dashboard_reads::time_pages(&admin, hub.dashboard_port, period),
            peak_memory(hub_pid, nats_pid, period),
        );
        let wall = started.elapsed();
        let cpu_after = CpuTimes::read(hub_pid, nats_pid)?;
        let (beacons, reads, pages, peak) = (beacons?, reads?, pages?, peak?);
        let cpu = |before: Duration, after: Duration| percent_of_a_core(after.saturating_sub(before), wall);
        println!(
            "  beacons: {} sites × 1/s for {} s: {}; over {}: hub CPU {:.0} % of a core, its nats-server {:.0} %, \
             the bench (every simulated site) {:.0} %",
            count(n),
            self.beacon_seconds,
            beacon_line(&beacons),
            secs(wall),
            cpu(cpu_before.hub, cpu_after.hub),
            cpu(cpu_before.nats_server, cpu_after.nats_server),
            cpu(cpu_before.bench, cpu_after.bench),
        );
        println!("  beacons by second: {}", by_second_line(&beacons));
        println!(
            "  sites ls with {} live sites (during the beacons, {QUERY_ROUNDS} reads): {}, {} ({} rows, {} \
             connected); sites get: {}, {} B",
            count(n),
            latencies(&reads.list),
            kilobytes(reads.list_bytes as u64),
            count(reads.listed as u64),
            count(reads.connected as u64),
            latencies(&reads.get),
            reads.get_bytes,
        );
        println!(
            "  dashboard with {} live sites (during the beacons, signed in as the admin, 20 loads each): first \
             screen {}, {}; sites page {}, {}",
            count(n),
            latencies(&pages.first_screen),
            kilobytes(pages.first_screen_bytes as u64),
            latencies(&pages.sites),
            kilobytes(pages.sites_bytes as u64),
        );
        println!(
            "  hub RSS: {} before, {} with {} sites ({:.1} KB/site), {} peak during the beacons; its nats-server {} \
             before, {} with the sites ({:.1} KB/site), {} peak",
            megabytes(before.hub),
            megabytes(added.hub),
            count(n),
            per_site_kb(before.hub, added.hub, n),
            megabytes(peak.hub),
            megabytes(before.nats_server),
            megabytes(added.nats_server),
            per_site_kb(before.nats_server, added.nats_server, n),
            megabytes(peak.nats_server),
        );

        drop(clients);
        drop(admin);
        let (warnings, errors) = hub.log_warnings_and_errors();
        let stopped_in = hub.stop();
        println!(
            "  hub log: {warnings} WARN and {errors} ERROR lines; stopped by SIGTERM in {}",
            secs(stopped_in)
        );
        Ok(())
    }
}
