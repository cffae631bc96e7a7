//! edgefleet-bench: how fast events decode and apply in memory, and how close `replay::rebuild_streams` comes to a
//! raw JetStream read of the same 1,000,000-event stream (DESIGN §8: "replay must run near the raw read rate").
//!
//! Prints figures; asserts only correctness (every event applied, none quarantined), never speed.

mod decode_apply;
mod figures;
mod machine;
mod raw_read;
mod replay_read;
mod replay_vs_raw;
mod stream_load;
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
    /// Run only one part: `decode` (in memory) or `replay` (JetStream load, raw read, replay).
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
}

/// A part of the bench.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Part {
    /// decode+apply in memory, one core.
    Decode,
    /// JetStream: load, raw read, replay.
    Replay,
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
    let started = Instant::now();

    for line in machine::MachineFacts::read().lines() {
        println!("{line}");
    }

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

    if args.only != Some(Part::Replay) {
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
            "decode+apply through replay's per-message path (decode_message with subject check, FleetState::apply; \
             in memory, 1 core): {n} node events in {} = {} events/s",
            secs(figures.replay_path),
            rate(figures.events, figures.replay_path),
        );
    }

    if args.only != Some(Part::Decode) {
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
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the tokio runtime")?;
        println!(
            "runtime: tokio multi-thread, {} workers (nats-server runs on the same cores)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        let interrupted = runtime.block_on(async {
            tokio::select! {
                result = bench.run() => result.map(|()| false),
                signal = shutdown_signal() => {
                    signal?;
                    Ok(true)
                }
            }
        })?;
        if interrupted {
            // The bench future, and with it the nats-server it started, was dropped by `select!`.
            eprintln!("interrupted: bench nats-server stopped, no figures for the JetStream half");
            return Ok(());
        }
    }

    println!("total wall time: {}", secs(started.elapsed()));
    Ok(())
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
