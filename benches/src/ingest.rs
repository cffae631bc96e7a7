//! Hub ingest: many simulated nodes appending liveness transitions through the real `JetStreamLog::append`
//! (expected last subject sequence, `Nats-Msg-Id`) to a nats-server with fsync on every write.
//!
//! Heartbeats are not logged (DESIGN §7): only the transitions they cause (WentSilent/CameBack) are events.

use crate::figures::{count, rate, secs};
use actors::EventLog as _;
use anyhow::{bail, Context as _};
use events::node::NodeEvent;
use events::{AggregateRef, Envelope, EventId, Hlc, Origin, Token, Writer};
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use replay::{JetStreamLog, Quarantine, StreamPolicy};
use std::time::{Duration, Instant};
use testkit::fixtures::FIXTURE_EPOCH_MS;
use testkit::NatsServer;

/// How to run the ingest part.
pub struct IngestOptions {
    /// Simulated nodes.
    pub nodes: u32,
    /// Liveness transitions each node appends (WentSilent, CameBack, WentSilent, …).
    pub transitions: u32,
    /// Appends in flight at once (one per node; each node's appends are sequential).
    pub in_flight: usize,
}

/// The `step`-th liveness transition of node `node` (of `nodes`) at `site`.
fn transition(site: &Token, aggregate: &AggregateRef, node: u32, nodes: u32, step: u32) -> Envelope {
    let i = u64::from(step) * u64::from(nodes) + u64::from(node);
    let at_ms = FIXTURE_EPOCH_MS + i;
    let payload = if step.is_multiple_of(2) {
        NodeEvent::WentSilent {
            last_seen: Hlc {
                physical_ms: at_ms.saturating_sub(30_000),
                logical: 0,
            },
        }
    } else {
        NodeEvent::CameBack
    };
    Envelope {
        id: EventId::from_parts(at_ms, u128::from(i) + 1),
        aggregate: aggregate.clone(),
        origin: Origin::Site(site.clone()),
        hlc: Hlc {
            physical_ms: at_ms,
            logical: 0,
        },
        by: Some(format!("agent:n{node}")),
        payload: payload.into(),
    }
}

/// One node's appends, in order; returns each append's ack latency in microseconds.
async fn node_appends(
    log: &JetStreamLog,
    site: &Token,
    node: u32,
    nodes: u32,
    transitions: u32,
) -> anyhow::Result<Vec<u64>> {
    let aggregate = AggregateRef::node(site, &testkit::token(&format!("n{node}")));
    let mut expected = 0;
    let mut latencies = Vec::with_capacity(transitions as usize);
    for step in 0..transitions {
        let envelope = transition(site, &aggregate, node, nodes, step);
        debug_assert!(envelope.validate().is_ok(), "ingest event is invalid");
        let started = Instant::now();
        let written = log
            .append(&aggregate, Writer::Site, expected, std::slice::from_ref(&envelope))
            .await
            .with_context(|| format!("appending transition {step} of {aggregate}"))?;
        latencies.push(started.elapsed().as_micros() as u64);
        let Some((_, seq)) = written.last() else {
            bail!("append of {aggregate} returned no sequence");
        };
        expected = *seq;
    }
    Ok(latencies)
}

/// Starts a fsync-always server, runs the appends and prints the figure.
pub async fn run(options: &IngestOptions) -> anyhow::Result<()> {
    anyhow::ensure!(options.nodes > 0 && options.transitions > 0 && options.in_flight > 0);
    let server = NatsServer::builder("bench-ingest")
        .jetstream_domain("hub")
        .sync_always()
        .start()
        .await
        .context("starting the ingest nats-server")?;
    let js = async_nats::jetstream::new(server.connect().await?);
    let site = testkit::token("ingest");
    replay::ensure_site_stream(&js, &site, &StreamPolicy::default()).await?;
    let log = JetStreamLog::new(js.clone(), Quarantine::in_memory());

    let mut histogram = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).context("histogram bounds")?;
    let started = Instant::now();
    let mut appends = futures::stream::iter(0..options.nodes)
        .map(|node| node_appends(&log, &site, node, options.nodes, options.transitions))
        .buffer_unordered(options.in_flight);
    while let Some(latencies) = appends.next().await {
        for micros in latencies? {
            histogram.record(micros.max(1)).context("recording a latency")?;
        }
    }
    drop(appends);
    let elapsed = started.elapsed();

    let stream = events::subject::site_stream(&site);
    let stored = js.get_stream(&stream).await?.info().await?.state.messages;
    let total = u64::from(options.nodes) * u64::from(options.transitions);
    if stored != total {
        bail!("{stream} holds {stored} messages after {total} appends");
    }
    let ms = |q: f64| Duration::from_micros(histogram.value_at_quantile(q)).as_secs_f64() * 1e3;
    println!(
        "hub ingest ({} nodes, liveness transitions, fsync per write): {} events/s, p50 {:.2} ms, p99 {:.2} ms  \
         ({} events = {} WentSilent/CameBack per node through JetStreamLog::append with expected sequence and \
         Nats-Msg-Id, {} appends in flight, in {}; heartbeats are not logged, DESIGN §7)",
        count(u64::from(options.nodes)),
        rate(total, elapsed),
        ms(0.5),
        ms(0.99),
        count(total),
        options.transitions,
        options.in_flight,
        secs(elapsed),
    );
    Ok(())
}
