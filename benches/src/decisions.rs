//! What atomic decisions cost: decisions of several events appended through the real `JetStreamLog::append` as one
//! message (what the actors do), against the same events appended one message per event (the former path, which a
//! crash could cut after a prefix), on a nats-server with fsync on every write.

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

/// Aggregates appending at once, decisions each, events per decision.
const AGGREGATES: u32 = 2_000;
const DECISIONS: u32 = 3;
const EVENTS_PER_DECISION: u32 = 3;
const IN_FLIGHT: usize = 256;

/// The `d`-th decision of aggregate `n`: `EVENTS_PER_DECISION` liveness events.
fn decision(site: &Token, aggregate: &AggregateRef, n: u32, d: u32) -> Vec<Envelope> {
    (0..EVENTS_PER_DECISION)
        .map(|e| {
            let i =
                (u64::from(n) * u64::from(DECISIONS) + u64::from(d)) * u64::from(EVENTS_PER_DECISION) + u64::from(e);
            let payload = if e % 2 == 0 {
                NodeEvent::CameBack
            } else {
                NodeEvent::WentSilent {
                    last_seen: Hlc::default(),
                }
            };
            Envelope {
                id: EventId::from_parts(FIXTURE_EPOCH_MS + i, u128::from(i) + 1),
                aggregate: aggregate.clone(),
                origin: Origin::Site(site.clone()),
                hlc: Hlc {
                    physical_ms: FIXTURE_EPOCH_MS + i,
                    logical: 0,
                },
                by: Some("bench".into()),
                payload: payload.into(),
            }
        })
        .collect()
}

/// One aggregate's decisions, in order, whole (`atomic`) or event by event; the latency of each decision in µs.
async fn appends(log: &JetStreamLog, site: &Token, n: u32, atomic: bool) -> anyhow::Result<Vec<u64>> {
    let aggregate = AggregateRef::node(site, &testkit::token(&format!("n{n}")));
    let mut expected = 0;
    let mut latencies = Vec::new();
    for d in 0..DECISIONS {
        let events = decision(site, &aggregate, n, d);
        let started = Instant::now();
        let parts: Vec<&[Envelope]> = if atomic {
            vec![&events[..]]
        } else {
            events.chunks(1).collect()
        };
        for part in parts {
            let written = log
                .append(&aggregate, Writer::Site, expected, part)
                .await
                .with_context(|| format!("appending decision {d} of {aggregate}"))?;
            let Some((_, seq)) = written.last() else {
                bail!("append of {aggregate} returned no sequence");
            };
            expected = *seq;
        }
        latencies.push(started.elapsed().as_micros() as u64);
    }
    Ok(latencies)
}

/// Appends every decision whole or event by event into a fresh site stream; prints and returns the elapsed time.
async fn one_way(js: &async_nats::jetstream::Context, site: &str, atomic: bool) -> anyhow::Result<Duration> {
    let site = testkit::token(site);
    replay::ensure_site_stream(js, &site, &StreamPolicy::default()).await?;
    let log = JetStreamLog::new(js.clone(), Quarantine::in_memory());
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).context("histogram bounds")?;
    let started = Instant::now();
    let mut all = futures::stream::iter(0..AGGREGATES)
        .map(|n| appends(&log, &site, n, atomic))
        .buffer_unordered(IN_FLIGHT);
    while let Some(latencies) = all.next().await {
        for micros in latencies? {
            histogram.record(micros.max(1)).context("recording a latency")?;
        }
    }
    drop(all);
    let elapsed = started.elapsed();
    let stream = events::subject::site_stream(&site);
    let stored = js.get_stream(&stream).await?.info().await?.state.messages;
    let decisions = u64::from(AGGREGATES) * u64::from(DECISIONS);
    let messages = if atomic {
        decisions
    } else {
        decisions * u64::from(EVENTS_PER_DECISION)
    };
    if stored != messages {
        bail!("{stream} holds {stored} messages, expected {messages}");
    }
    let ms = |q: f64| Duration::from_micros(histogram.value_at_quantile(q)).as_secs_f64() * 1e3;
    println!(
        "  {}: {} decisions/s = {} events/s, p50 {:.2} ms, p99 {:.2} ms per decision  ({} messages in {})",
        if atomic {
            "one message per decision (atomic)"
        } else {
            "one message per event (a crash can leave a prefix)"
        },
        rate(decisions, elapsed),
        rate(decisions * u64::from(EVENTS_PER_DECISION), elapsed),
        ms(0.5),
        ms(0.99),
        count(stored),
        secs(elapsed),
    );
    Ok(elapsed)
}

/// Starts a fsync-always server and measures both ways.
pub async fn run() -> anyhow::Result<()> {
    let server = NatsServer::builder("bench-decisions")
        .jetstream_domain("hub")
        .sync_always()
        .start()
        .await
        .context("starting the decisions nats-server")?;
    let js = async_nats::jetstream::new(server.connect().await?);
    println!(
        "decisions of {EVENTS_PER_DECISION} events ({} aggregates × {DECISIONS} decisions, {IN_FLIGHT} aggregates \
         in flight, JetStreamLog::append with expected sequence and Nats-Msg-Id, fsync per write):",
        count(u64::from(AGGREGATES)),
    );
    let atomic = one_way(&js, "atomic", true).await?;
    let split = one_way(&js, "split", false).await?;
    println!(
        "  atomic / one message per event: {:.2} of the time",
        atomic.as_secs_f64() / split.as_secs_f64()
    );
    Ok(())
}
