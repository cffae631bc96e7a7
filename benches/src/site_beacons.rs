//! Simulated sites beaconing a real hub: one connection per site into that site's account (as the hub's own user
//! there, the only credentials in the account the bench holds), and from each one beacon request a second, as a
//! site's controller sends them (`services/src/site/hub_beacon.rs`), the sites spread evenly over the second. Every
//! answer's latency goes into one histogram.

use anyhow::Context as _;
use futures::StreamExt as _;
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// How long a beacon waits for the hub's answer before it counts as timed out.
pub const BEACON_TIMEOUT: Duration = Duration::from_secs(2);
/// Nodes each simulated site reports heartbeat ages for.
const NODES_PER_SITE: u64 = 10;

/// One simulated site: its id and its connection into its account at the hub.
pub struct SiteClient {
    /// Site id.
    pub site: String,
    /// The connection.
    pub client: async_nats::Client,
}

/// Opens `sites.len()` connections, `in_flight` at a time; `connect` opens one.
pub async fn connect_all<F, Fut>(sites: &[String], in_flight: usize, connect: F) -> anyhow::Result<Vec<SiteClient>>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<async_nats::Client>>,
{
    let mut opened = futures::stream::iter(sites.iter().cloned())
        .map(|site| {
            let connecting = connect(site.clone());
            async move { connecting.await.map(|client| SiteClient { site, client }) }
        })
        .buffer_unordered(in_flight);
    let mut clients = Vec::with_capacity(sites.len());
    while let Some(client) = opened.next().await {
        clients.push(client?);
    }
    Ok(clients)
}

/// What the beacons of one period met.
pub struct BeaconFigures {
    /// Latency of every answered beacon, in microseconds.
    pub answered: Histogram<u64>,
    /// Beacons not answered within [`BEACON_TIMEOUT`].
    pub timed_out: u64,
    /// Beacons that failed otherwise (no responders, connection closed).
    pub failed: u64,
    /// The last failure's reason.
    pub last_failure: Option<String>,
    /// The same, for the beacons of each second (round) of the period.
    pub by_second: Vec<SecondFigures>,
}

/// The beacons sites sent in one second of the period.
pub struct SecondFigures {
    /// Latency of each answered one, in microseconds.
    pub answered: Histogram<u64>,
    /// Those not answered within [`BEACON_TIMEOUT`].
    pub timed_out: u64,
}

/// How one beacon went.
enum Outcome {
    /// Answered after this many microseconds.
    Answered(u64),
    TimedOut,
    Failed(String),
}

fn latency_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).context("histogram bounds")
}

/// A beacon as `services::site_beacon::SiteBeacon` encodes it: `site` at stream sequence 0, with the heartbeat
/// ages of ten nodes.
fn beacon_body(site: &str, round: u64) -> anyhow::Result<bytes::Bytes> {
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let ages: serde_json::Map<String, serde_json::Value> = (0..NODES_PER_SITE)
        .map(|n| (format!("n{n:02}"), serde_json::json!(200 + (n * 97 + round * 31) % 900)))
        .collect();
    let beacon = serde_json::json!({
        "site": site,
        "site_last_seq": 0,
        "controller_version": env!("CARGO_PKG_VERSION"),
        "unix_ms": unix_ms,
        "node_heartbeat_ms_ago": ages,
    });
    Ok(serde_json::to_vec(&beacon).context("encoding a beacon")?.into())
}

/// Every site sends `rounds` beacons, one a second, site `i` of `n` starting `i/n` of a second after the others'
/// start; waits for every answer (or timeout).
pub async fn run(sites: &[SiteClient], rounds: u64) -> anyhow::Result<BeaconFigures> {
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let spread = Duration::from_secs(1) / u32::try_from(sites.len().max(1)).unwrap_or(u32::MAX);
    let mut senders = tokio::task::JoinSet::new();
    for (i, site) in sites.iter().enumerate() {
        let (name, client) = (site.site.clone(), site.client.clone());
        let first = start + spread * u32::try_from(i).unwrap_or(u32::MAX);
        senders.spawn(async move {
            // As the site's controller does: a 1 s interval, ticks missed while waiting for an answer sent at once.
            let mut tick = tokio::time::interval_at(first, Duration::from_secs(1));
            let subject = format!("ef.hub.beacon.{name}");
            let mut outcomes = Vec::with_capacity(usize::try_from(rounds).unwrap_or(0));
            for round in 0..rounds {
                tick.tick().await;
                let body = beacon_body(&name, round)?;
                let sent = Instant::now();
                let outcome = match tokio::time::timeout(BEACON_TIMEOUT, client.request(subject.clone(), body)).await {
                    Ok(Ok(_)) => Outcome::Answered((sent.elapsed().as_micros() as u64).max(1)),
                    Ok(Err(e)) if e.kind() == async_nats::RequestErrorKind::TimedOut => Outcome::TimedOut,
                    Ok(Err(e)) => Outcome::Failed(format!("{name}: {e}")),
                    Err(_) => Outcome::TimedOut,
                };
                outcomes.push((round, outcome));
            }
            anyhow::Ok(outcomes)
        });
    }
    let mut figures = BeaconFigures {
        answered: latency_histogram()?,
        timed_out: 0,
        failed: 0,
        last_failure: None,
        by_second: (0..rounds)
            .map(|_| {
                Ok(SecondFigures {
                    answered: latency_histogram()?,
                    timed_out: 0,
                })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    while let Some(sender) = senders.join_next().await {
        for (round, outcome) in sender.context("a beacon sender panicked")?? {
            let second = usize::try_from(round)
                .ok()
                .and_then(|r| figures.by_second.get_mut(r))
                .context("a beacon of an unknown round")?;
            match outcome {
                Outcome::Answered(micros) => {
                    figures.answered.saturating_record(micros);
                    second.answered.saturating_record(micros);
                }
                Outcome::TimedOut => {
                    figures.timed_out += 1;
                    second.timed_out += 1;
                }
                Outcome::Failed(reason) => {
                    figures.failed += 1;
                    figures.last_failure = Some(reason);
                }
            }
        }
    }
    Ok(figures)
}
