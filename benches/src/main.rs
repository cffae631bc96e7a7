//! edgefleet-bench: how fast events decode and apply in memory, and how close `replay::rebuild_streams` comes to a
//! raw JetStream read of the same 1,000,000-event stream (DESIGN §8: "replay must run near the raw read rate").
//!
//! With `--all` it also measures hub ingest with fsync per write, the cost of atomic decisions, memory per actor, catch-up after a cut, sourcing
//! fan-in, rollout orchestration, 1,000 sites at the projection, and a real `edgefleet hub` process with 1,000 live
//! sites beaconing it (see benches/README.md).
//!
//! Prints figures; asserts only correctness (every event applied, none quarantined), never speed.

mod dashboard_reads;
mod decisions;
mod decode_apply;
mod figures;
mod fleet_scale;
mod hub_process;
mod ingest;
mod live_sites;
mod machine;
mod memory;
mod placement;
mod process_stats;
mod raw_read;
mod replay_read;
mod replay_vs_raw;
mod rollout_orchestration;
mod site_beacons;
mod sourcing;
mod stream_load;
mod telemetry_path;
mod workload;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use figures::{count, rate, secs};
use replay_vs_raw::ReplayBench;
use std::time::Instant;
use stream_load::LoadOptions;
use workload::Workload;

/// The site whose stream the bench writes and reads.
const SITE: &str = "bench";

/// Benchmarks decode+apply in memory and replay against a raw read of a JetStream stream.
#[derive(Debug, Parser)]
#[command(name = "edgefleet-bench", version)]
struct Args {
    /// Events in the workload.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Nodes at the bench site the events are spread over.
    #[arg(long, default_value_t = 10_000)]
    nodes: u32,
    /// Run every part, in order (without `--all` or `--only`: decode and replay).
    #[arg(long, conflicts_with = "only")]
    all: bool,
    /// Run only one part.
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// Publish acks in flight while loading the stream.
    #[arg(long, default_value_t = 4096)]
    acks_in_flight: usize,
    /// Set `Nats-Msg-Id` on every loaded message, as the real writer does (off: the dedup window costs the server
    /// memory and time per message, and the read side does not care).
    #[arg(long)]
    msg_id: bool,
    /// Rounds of (raw read, replay); the best of each is reported.
    #[arg(long, default_value_t = 2)]
    rounds: u32,
    /// Placement: sites (one cluster of three nodes each) in the fleet decided over.
    #[arg(long, default_value_t = 2_000)]
    placement_sites: u32,
    /// Placement: placements in the fleet.
    #[arg(long, default_value_t = 20)]
    placements: u32,
    /// Ingest: simulated nodes appending liveness transitions.
    #[arg(long, default_value_t = 10_000)]
    ingest_nodes: u32,
    /// Ingest: transitions each node appends (WentSilent/CameBack alternately).
    #[arg(long, default_value_t = 4)]
    ingest_transitions: u32,
    /// Ingest: appends in flight (one per node).
    #[arg(long, default_value_t = 256)]
    ingest_in_flight: usize,
    /// Memory: actors started (and, in a second registry, passivated).
    #[arg(long, default_value_t = 10_000)]
    memory_actors: u32,
    /// Catch-up: site events written while the leaf link is cut.
    #[arg(long, default_value_t = 100_000)]
    cut_events: u64,
    /// Fan-in: numbers of site streams sourced by the hub, comma-separated.
    #[arg(long, default_value = "10,100,500", value_delimiter = ',')]
    fanin: Vec<u32>,
    /// Fan-in: events in each site stream.
    #[arg(long, default_value_t = 200)]
    fanin_events: u64,
    /// Rollout: simulated clusters.
    #[arg(long, default_value_t = 1000)]
    rollout_clusters: u32,
    /// Rollout: sites the clusters are spread over.
    #[arg(long, default_value_t = 100)]
    rollout_sites: u32,
    /// Rollout: waves.
    #[arg(long, default_value = "1,10%,50%,100%")]
    rollout_waves: String,
    /// Fleet scale: site streams at the hub.
    #[arg(long, default_value_t = 1000)]
    fleet_sites: u32,
    /// Fleet scale: nodes per site.
    #[arg(long, default_value_t = 100)]
    fleet_nodes: u32,
    /// Live sites: sites added to a real `edgefleet hub` and beaconing it.
    #[arg(long, default_value_t = 1000)]
    live_sites: u32,
    /// Live sites: seconds of beacons measured.
    #[arg(long, default_value_t = 20)]
    beacon_seconds: u64,
    /// Live sites: the `edgefleet` binary to run as the hub (default: next to this executable).
    #[arg(long)]
    edgefleet: Option<std::path::PathBuf>,
    /// Telemetry: simulated nodes at the site.
    #[arg(long, default_value_t = 10)]
    telemetry_nodes: u32,
    /// Telemetry: batches each node stores (one sampling instant each).
    #[arg(long, default_value_t = 1000)]
    telemetry_batches: u32,
}

impl Args {
    /// Whether `part` runs.
    fn runs(&self, part: Part) -> bool {
        match self.only {
            Some(only) => only == part,
            None => self.all || matches!(part, Part::Decode | Part::Replay),
        }
    }
}

/// A part of the bench.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Part {
    /// decode+apply in memory, one core.
    Decode,
    /// JetStream: load, raw read, replay.
    Replay,
    /// Hub ingest of liveness transitions, fsync per write.
    Ingest,
    /// Decisions of several events: one message each (atomic) against one message per event.
    Decisions,
    /// RSS per live and per passivated actor.
    Memory,
    /// Catch-up of a site's backlog after a leaf-link cut.
    Catchup,
    /// Sourcing fan-in over many site streams.
    Fanin,
    /// Rollout orchestration over simulated clusters.
    Rollout,
    /// A thousand sites at the hub's projection: build, memory, restart, nodes ls / sites ls.
    Fleet,
    /// A real `edgefleet hub` process with a thousand live sites beaconing: adds/s, beacon latency, sites ls, RSS, CPU.
    Sites,
    /// Node metrics through site stream, hub copy and forwarder into a real Prometheus: samples/s, bytes/sample.
    Telemetry,
    /// Placement decisions and a whole hub plan over a large fleet, in memory.
    Placement,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    anyhow::ensure!(args.events > 0, "--events must be at least 1");
    anyhow::ensure!(args.nodes > 0, "--nodes must be at least 1");
    anyhow::ensure!(args.acks_in_flight > 0, "--acks-in-flight must be at least 1");
    anyhow::ensure!(args.rounds > 0, "--rounds must be at least 1");
    let live_sites = live_sites::LiveSites {
        sites: args.live_sites,
        beacon_seconds: args.beacon_seconds,
        edgefleet: args.edgefleet.clone(),
    };
    if args.runs(Part::Sites) {
        // Before any other part runs: a missing hub binary should not surface after minutes of figures.
        live_sites.hub_binary()?;
    }
    let started = Instant::now();

    for line in machine::MachineFacts::read().lines() {
        println!("{line}");
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    if (args.runs(Part::Decode) || args.runs(Part::Replay)) && decode_and_replay(&args, &runtime)? {
        return Ok(());
    }
    if args.runs(Part::Ingest) {
        let options = ingest::IngestOptions {
            nodes: args.ingest_nodes,
            transitions: args.ingest_transitions,
            in_flight: args.ingest_in_flight,
        };
        if interruptible(&runtime, "ingest", ingest::run(&options))? {
            return Ok(());
        }
    }
    if args.runs(Part::Decisions) && interruptible(&runtime, "decisions", decisions::run())? {
        return Ok(());
    }
    if args.runs(Part::Memory) {
        memory::run(args.memory_actors)?;
    }
    if args.runs(Part::Catchup) && interruptible(&runtime, "catch-up", sourcing::catchup(args.cut_events))? {
        return Ok(());
    }
    if args.runs(Part::Fanin) {
        for &n in &args.fanin {
            if interruptible(&runtime, "fan-in", sourcing::fanin(n, args.fanin_events))? {
                return Ok(());
            }
        }
    }
    if args.runs(Part::Rollout) {
        rollout_orchestration::run(args.rollout_clusters, args.rollout_sites, &args.rollout_waves)?;
    }
    if args.runs(Part::Fleet) {
        let fleet = fleet_scale::FleetScale {
            sites: args.fleet_sites,
            nodes_per_site: args.fleet_nodes,
        };
        if interruptible(&runtime, "fleet scale", fleet.run())? {
            return Ok(());
        }
    }
    if args.runs(Part::Sites) && interruptible(&runtime, "live sites", live_sites.run())? {
        return Ok(());
    }
    let telemetry = telemetry_path::TelemetryPath {
        nodes: args.telemetry_nodes,
        batches: args.telemetry_batches,
    };
    if args.runs(Part::Telemetry) && interruptible(&runtime, "telemetry", telemetry.run())? {
        return Ok(());
    }
    if args.runs(Part::Placement) {
        placement::PlacementBench {
            sites: args.placement_sites,
            placements: args.placements,
        }
        .run()?;
    }

    println!("total wall time: {}", secs(started.elapsed()));
    Ok(())
}

/// The decode and replay parts; true when interrupted.
fn decode_and_replay(args: &Args, runtime: &tokio::runtime::Runtime) -> anyhow::Result<bool> {
    let site = testkit::token(SITE);
    let workload = Workload::new(&site, args.nodes);
    let subjects = workload.subjects();
    let encode_started = Instant::now();
    let encoded = workload.encode(args.events);
    let encoded_bytes: u64 = encoded.iter().map(|e| e.bytes.len() as u64).sum();
    println!(
        "workload: {} node events over {} nodes at site {SITE} (Registered with inventory, Joined, Provisioning, \
         Ready, then WentSilent/CameBack, Failed, re-provision), {} B avg encoded, built in {}",
        count(args.events),
        count(u64::from(workload.node_count())),
        encoded_bytes / args.events,
        secs(encode_started.elapsed()),
    );

    if args.runs(Part::Decode) {
        let stream = events::subject::site_stream(&site);
        let figures = decode_apply::run(&encoded, &subjects, &stream)?;
        let n = count(figures.events);
        println!(
            "decode only (in memory, 1 core): {n} node events in {} = {} events/s",
            secs(figures.decode_only),
            rate(figures.events, figures.decode_only),
        );
        println!(
            "decode+apply (in memory, 1 core): {n} node events in {} = {} events/s  ({} aggregates)",
            secs(figures.decode_apply),
            rate(figures.events, figures.decode_apply),
            count(figures.aggregates as u64),
        );
        println!(
            "decode+apply, AnyAggregate::apply in a HashMap (no positions/high-water bookkeeping; in memory, \
             1 core): {n} node events in {} = {} events/s",
            secs(figures.decode_apply_lean),
            rate(figures.events, figures.decode_apply_lean),
        );
        println!(
            "decode+apply through replay's per-message path (replay::rebuild::apply_message: decode, subject check, FleetState::apply_at; \
             in memory, 1 core): {n} node events in {} = {} events/s",
            secs(figures.replay_path),
            rate(figures.events, figures.replay_path),
        );
    }

    if args.runs(Part::Replay) {
        let bench = ReplayBench {
            site: &site,
            subjects: &subjects,
            encoded: &encoded,
            load: LoadOptions {
                acks_in_flight: args.acks_in_flight,
                msg_id: args.msg_id,
            },
            rounds: args.rounds,
        };
        println!(
            "runtime: tokio multi-thread, {} workers (nats-server runs on the same cores)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        return interruptible(runtime, "replay", bench.run());
    }
    Ok(false)
}

/// Runs `part` on `runtime` until it ends or Ctrl-C/SIGTERM; true when interrupted.
fn interruptible(
    runtime: &tokio::runtime::Runtime,
    name: &str,
    part: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<bool> {
    let interrupted = runtime.block_on(async {
        tokio::select! {
            result = part => result.map(|()| false),
            signal = shutdown_signal() => {
                signal?;
                Ok(true)
            }
        }
    })?;
    if interrupted {
        // The part's future, and with it the nats-servers it started, was dropped by `select!`.
        eprintln!("interrupted: {name} nats-servers stopped, no further figures");
    }
    Ok(interrupted)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}
