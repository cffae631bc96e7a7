//! Hub sourcing over a leaf link that was cut: catch-up of one site's backlog, and fan-in over many site streams.

use crate::figures::{count, rate, secs};
use crate::stream_load::{load, LoadOptions};
use crate::workload::Workload;
use anyhow::{bail, Context as _};
use async_nats::jetstream::context::Context;
use async_nats::jetstream::stream::{Config, External, PersistenceMode, RetentionPolicy, Source, StorageType};
use events::subject;
use futures::StreamExt as _;
use replay::StreamPolicy;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use testkit::{LinkProxy, NatsServer};

/// Publish acks in flight while writing at the site.
const ACKS_IN_FLIGHT: usize = 2048;
/// Nodes the written site events are spread over.
const NODES: u32 = 1_000;
/// How often the hub copies are polled.
const POLL: Duration = Duration::from_millis(20);

/// A proxy in front of `hub`'s leaf port.
async fn proxy_to(hub: &NatsServer) -> anyhow::Result<LinkProxy> {
    let port = hub.leaf_port().context("the hub has no leaf port")?;
    let target: SocketAddr = ([127, 0, 0, 1], port).into();
    LinkProxy::start(target).await.context("starting the link proxy")
}

/// Messages in `stream` (0 if it cannot be read yet).
async fn messages(js: &Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut handle) => handle.info().await.map_or(0, |info| info.state.messages),
        Err(_) => 0,
    }
}

/// When the copies were full, timed from the call.
struct CopyTimes {
    /// Until the first message showed in any copy (leaf reconnect and source retry).
    first: Duration,
    /// Until every copy had begun to copy.
    all_started: Duration,
    /// Until every copy was full.
    all: Duration,
}

/// Waits until every stream in `streams` holds `expected` messages.
async fn wait_for_copies(
    js: &Context,
    streams: impl IntoIterator<Item = String>,
    expected: u64,
    deadline: Duration,
) -> anyhow::Result<CopyTimes> {
    let mut pending: BTreeSet<String> = streams.into_iter().collect();
    let mut not_started = pending.clone();
    let started = Instant::now();
    let mut first = None;
    let mut all_started = None;
    while !pending.is_empty() {
        let mut done = Vec::new();
        for stream in &pending {
            let held = messages(js, stream).await;
            if held > 0 && first.is_none() {
                first = Some(started.elapsed());
            }
            if held > 0 && not_started.remove(stream) && not_started.is_empty() {
                all_started = Some(started.elapsed());
            }
            if held > expected {
                bail!("{stream} holds {held} messages, more than the {expected} written");
            }
            if held == expected {
                done.push(stream.clone());
            }
        }
        for stream in done {
            pending.remove(&stream);
        }
        if pending.is_empty() {
            break;
        }
        if started.elapsed() > deadline {
            bail!(
                "{} hub copies still short after {} (first: {:?})",
                pending.len(),
                secs(started.elapsed()),
                pending.first()
            );
        }
        tokio::time::sleep(POLL).await;
    }
    let all = started.elapsed();
    Ok(CopyTimes {
        first: first.unwrap_or(all),
        all_started: all_started.unwrap_or(all),
        all,
    })
}

/// As the hub does on a site's first beacon after a cut: once the domain `domain` answers over the leaf link,
/// resumes the copies `streams` (`replay::resume_source`) instead of waiting out the server's source retry backoff.
/// Returns how long after the call the domain answered.
async fn resume_when_answering(js: &Context, domain: &str, streams: &[&str]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let info = format!("$JS.{domain}.API.INFO");
    let client = js.client();
    loop {
        let asked = client.request(info.clone(), "".into());
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(250), asked).await {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "{domain} did not answer within 60 s"
        );
        tokio::time::sleep(POLL).await;
    }
    let answered = started.elapsed();
    // The hub resumes each site's copy from that site's own beacon listener, so many at once.
    let mut resumes = futures::stream::iter(streams)
        .map(|stream| replay::resume_source(js, stream))
        .buffer_unordered(32);
    while let Some(resumed) = resumes.next().await {
        resumed?;
    }
    Ok(answered)
}

/// Catch-up: a site (fsync always) writes `events` while its leaf link to the hub (fsync always) is cut; after
/// the heal, how long until the hub's sourced copy holds them all.
pub async fn catchup(events: u64) -> anyhow::Result<()> {
    anyhow::ensure!(events > 0, "--cut-events must be at least 1");
    let hub = NatsServer::hub().await.context("starting the hub nats-server")?;
    let proxy = proxy_to(&hub).await?;
    let site = testkit::token("ship");
    let site_server = NatsServer::builder("ship")
        .jetstream_domain("ship")
        .sync_always()
        .leaf_remote(&proxy.leaf_url())
        .start()
        .await
        .context("starting the site nats-server")?;
    let hub_js = async_nats::jetstream::new(hub.connect().await?);
    let site_js = async_nats::jetstream::new(site_server.connect().await?);
    let policy = StreamPolicy::default();
    replay::ensure_intent_stream(&hub_js, &policy).await?;
    replay::ensure_site_stream(&site_js, &site, &policy).await?;
    replay::ensure_hub_copy_of_site(&hub_js, &site, &policy).await?;
    let stream = subject::site_stream(&site);

    let workload = Workload::new(&site, NODES);
    let encoded = workload.encode(events);
    proxy.cut();
    let options = LoadOptions {
        acks_in_flight: ACKS_IN_FLIGHT,
        msg_id: true,
    };
    let loaded = load(
        &site_js,
        &stream,
        &workload.subjects(),
        site.as_str(),
        &encoded,
        &options,
    )
    .await?;
    let before_heal = messages(&hub_js, &stream).await;
    let healed = Instant::now();
    proxy.heal();
    let answered = resume_when_answering(&hub_js, "ship", &[stream.as_str()]).await?;
    let times = wait_for_copies(&hub_js, [stream.clone()], events, Duration::from_secs(900)).await?;
    let took = healed.elapsed();
    let copying = times.all.saturating_sub(times.first);
    println!(
        "catch-up after a cut holding {} site events: {} = {} events/s from heal to the hub copy of {stream} \
         holding all; of that {} until the first message arrived (leaf reconnect, source retry), then {} = {} \
         events/s copying  (the site's domain answered {} after the heal and the copy was resumed then; site \
         fsync per write, hub copy {}; the site wrote them while cut in {} with Nats-Msg-Id, {} acks in flight; \
         hub copy held {} at the heal)",
        count(events),
        secs(took),
        rate(events, took),
        secs(times.first + answered),
        secs(copying),
        rate(events, copying),
        secs(answered),
        replay::HUB_COPY_DURABILITY,
        secs(loaded.elapsed),
        count(ACKS_IN_FLIGHT as u64),
        count(before_heal),
    );
    drop(proxy);
    Ok(())
}

/// Fan-in: one leaf server in domain `fleet` holds `n` site streams of `k` events each, written while cut; after
/// the heal, how long until the hub's `n` sourced copies hold them all. Default fsync interval on both servers.
pub async fn fanin(n: u32, k: u64) -> anyhow::Result<()> {
    anyhow::ensure!(n > 0 && k > 0, "--fanin and --fanin-events must be at least 1");
    let hub = NatsServer::builder("hub")
        .jetstream_domain("hub")
        .leaf_listen()
        .start()
        .await
        .context("starting the hub nats-server")?;
    let proxy = proxy_to(&hub).await?;
    let leaf = NatsServer::builder("fleet")
        .jetstream_domain("fleet")
        .leaf_remote(&proxy.leaf_url())
        .start()
        .await
        .context("starting the leaf nats-server")?;
    let hub_js = async_nats::jetstream::new(hub.connect().await?);
    let leaf_js = async_nats::jetstream::new(leaf.connect().await?);
    let policy = StreamPolicy {
        site_max_bytes: 8 << 20,
        ..StreamPolicy::default()
    };
    proxy.cut();
    let options = LoadOptions {
        acks_in_flight: ACKS_IN_FLIGHT,
        msg_id: true,
    };
    let write_started = Instant::now();
    let mut streams = Vec::with_capacity(n as usize);
    for i in 0..n {
        let site = testkit::token(&format!("s{i}"));
        replay::ensure_site_stream(&leaf_js, &site, &policy).await?;
        let stream = subject::site_stream(&site);
        let workload = Workload::new(&site, 10);
        let encoded = workload.encode(k);
        load(
            &leaf_js,
            &stream,
            &workload.subjects(),
            site.as_str(),
            &encoded,
            &options,
        )
        .await?;
        hub_js
            .create_or_update_stream(Config {
                name: stream.clone(),
                storage: StorageType::File,
                retention: RetentionPolicy::Limits,
                duplicate_window: policy.duplicate_window,
                allow_direct: true,
                persist_mode: Some(PersistenceMode::Async),
                sources: Some(vec![Source {
                    name: stream.clone(),
                    external: Some(External {
                        api_prefix: "$JS.fleet.API".into(),
                        delivery_prefix: None,
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            })
            .await
            .with_context(|| format!("creating the hub copy of {stream}"))?;
        streams.push(stream);
    }
    let written = write_started.elapsed();
    let healed = Instant::now();
    proxy.heal();
    let names: Vec<&str> = streams.iter().map(String::as_str).collect();
    let answered = resume_when_answering(&hub_js, "fleet", &names).await?;
    let resumed = healed.elapsed();
    let times = wait_for_copies(&hub_js, streams.clone(), k, Duration::from_secs(900)).await?;
    let took = healed.elapsed();
    let copying = times.all.saturating_sub(times.first);
    let total = u64::from(n) * k;
    println!(
        "sourcing fan-in, {} site streams x {} events: {} events in {} = {} events/s from heal to every copy \
         full; every copy had begun {} after the heal (the leaf answered at {}, all {} copies resumed by {}), \
         then {} = {} events/s  (one leaf server in domain fleet, hub copies sourced via $JS.fleet.API with \
         persist_mode async, default fsync interval to isolate sourcing; streams written and copies created while \
         cut in {})",
        count(u64::from(n)),
        count(k),
        count(total),
        secs(took),
        rate(total, took),
        secs(resumed + times.all_started),
        secs(answered),
        count(u64::from(n)),
        secs(resumed),
        secs(copying),
        rate(total, copying),
        secs(written),
    );
    drop(proxy);
    Ok(())
}
