//! Memory per actor: process RSS before and after starting many `Registry<NodeState, JetStreamLog, NoSnapshots>`
//! actors (each loads its node from an empty log), then after an idle registry's actors were passivated.

use crate::figures::{count, megabytes, secs};
use actix::{Actor, Addr};
use actors::node::NodeState;
use actors::{ActorConfig, GetRegistryStats, NoSnapshots, Query, Registry};
use anyhow::Context as _;
use events::{AggregateRef, Origin};
use futures::StreamExt as _;
use replay::{JetStreamLog, Quarantine, StreamPolicy};
use std::time::{Duration, Instant};
use testkit::NatsServer;

type NodeRegistry = Addr<Registry<NodeState, JetStreamLog, NoSnapshots>>;

/// Queries in flight while starting actors.
const QUERIES_IN_FLIGHT: usize = 512;

/// Resident set size of this process in bytes (`/proc/self/statm` resident pages × page size).
pub(crate) fn rss_bytes() -> anyhow::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").context("reading /proc/self/statm")?;
    let resident: u64 = statm
        .split_whitespace()
        .nth(1)
        .context("/proc/self/statm has no resident field")?
        .parse()
        .context("parsing /proc/self/statm")?;
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Ok(resident * u64::try_from(page).unwrap_or(4096))
}

/// Signed difference per item, in bytes.
fn per_item(after: u64, before: u64, items: u64) -> i64 {
    (after as i64 - before as i64) / items.max(1) as i64
}

/// Starts one actor per aggregate by querying it; fails if any query fails.
async fn start_actors(registry: &NodeRegistry, aggregates: &[AggregateRef]) -> anyhow::Result<()> {
    let mut queries = futures::stream::iter(aggregates.iter().cloned())
        .map(|aggregate| registry.send(Query::<NodeState>::new(aggregate, false)))
        .buffer_unordered(QUERIES_IN_FLIGHT);
    while let Some(answer) = queries.next().await {
        answer.context("registry stopped")??;
    }
    Ok(())
}

/// Runs the part on its own thread under its own `actix_rt::System` and prints the figures.
pub fn run(actors: u32) -> anyhow::Result<()> {
    anyhow::ensure!(actors > 0, "--memory-actors must be at least 1");
    std::thread::Builder::new()
        .name("bench-memory".into())
        .spawn(move || actix_rt::System::new().block_on(measure(actors)))
        .context("spawning the memory thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the memory thread panicked"))?
}

async fn measure(actors: u32) -> anyhow::Result<()> {
    let server = NatsServer::builder("bench-memory")
        .jetstream_domain("hub")
        .start()
        .await
        .context("starting the memory nats-server")?;
    let js = async_nats::jetstream::new(server.connect().await?);
    let policy = StreamPolicy::default();
    replay::ensure_intent_stream(&js, &policy).await?;
    let site = testkit::token("mem");
    replay::ensure_site_stream(&js, &site, &policy).await?;
    let log = JetStreamLog::new(js, Quarantine::in_memory());
    let n = u64::from(actors);
    let node = |prefix: &str, i: u32| AggregateRef::node(&site, &testkit::token(&format!("{prefix}{i}")));
    let live_nodes: Vec<AggregateRef> = (0..actors).map(|i| node("n", i)).collect();
    let idle_nodes: Vec<AggregateRef> = (0..actors).map(|i| node("p", i)).collect();

    // Live: the default config (5 minutes idle), so nothing passivates while measuring.
    let live: NodeRegistry =
        Registry::new(log.clone(), NoSnapshots, ActorConfig::new(Origin::Site(site.clone()))).start();
    // Warm the connection, the registry and the allocator with one actor before the baseline.
    start_actors(&live, &[node("warm", 0)]).await?;
    let before = rss_bytes()?;
    let started = Instant::now();
    start_actors(&live, &live_nodes).await?;
    let took = started.elapsed();
    let with_live = rss_bytes()?;
    let stats = live.send(GetRegistryStats).await?;
    println!(
        "memory per live actor ({} Registry<NodeState, JetStreamLog, NoSnapshots> actors, each loaded from an \
         empty log by one Query, started in {}): RSS {} -> {} = {} B per live actor  ({} live)",
        count(n),
        secs(took),
        megabytes(before),
        megabytes(with_live),
        per_item(with_live, before, n),
        count(stats.live as u64),
    );

    // Passivated: a second registry whose actors passivate after 200 ms idle; the live ones above stay live.
    let idle_config = ActorConfig {
        idle_timeout: Duration::from_millis(200),
        ..ActorConfig::new(Origin::Site(site.clone()))
    };
    let idle: NodeRegistry = Registry::new(log, NoSnapshots, idle_config).start();
    start_actors(&idle, &idle_nodes).await?;
    let peak = rss_bytes()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let stats = loop {
        let stats = idle.send(GetRegistryStats).await?;
        if stats.live == 0 && stats.passivated >= n {
            break stats;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "actors not passivated after 120 s: {stats:?}"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    };
    // Let the stopped actors' mailboxes and futures drain.
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    let after_passivation = rss_bytes()?;
    println!(
        "memory per passivated actor ({} actors of a registry with idle_timeout 200 ms, all passivated: live {}, \
         passivated {}): RSS {} (before) -> {} (all live) -> {} (all passivated) = {} B retained per passivated \
         actor  (the registry drops passivated actors from its map, so its own bookkeeping keeps 0 B of them; \
         what RSS still shows is freed memory the allocator has not returned to the OS)",
        count(n),
        stats.live,
        count(stats.passivated),
        megabytes(with_live),
        megabytes(peak),
        megabytes(after_passivation),
        per_item(after_passivation, with_live, n),
    );
    drop(live);
    drop(server);
    Ok(())
}
