//! A site's telemetry through a cut: batches stored at the site while its leaf link is down, copied to the hub when
//! it returns, forwarded to a real Prometheus with the hub's cursor — every sample once, in order — and what the
//! site's limit discarded during the cut counted, not lost silently.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use telemetry::telemetry_streams::{ensure_hub_telemetry_copy, ensure_site_telemetry_stream, stream_state};
use telemetry::{forward_round, ForwardCursor, MetricBatch, MetricPoint, PrometheusServer, TelemetryLimits};
use testkit::{token, LinkProxy, NatsServer};

async fn js(server: &NatsServer) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(server.connect().await.expect("connect"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A hub server, a site server leafed to it through a cuttable link, the site's telemetry stream (capped at
/// `site_max_bytes`) and the hub's copy.
struct Pair {
    hub: NatsServer,
    _site: NatsServer,
    link: LinkProxy,
    hub_js: async_nats::jetstream::Context,
    site_js: async_nats::jetstream::Context,
}

async fn pair(site_max_bytes: i64) -> Pair {
    let hub = NatsServer::hub().await.expect("hub");
    let hub_leaf = hub.leaf_port().expect("hub listens for leaves");
    let link = LinkProxy::start(format!("127.0.0.1:{hub_leaf}").parse().expect("addr"))
        .await
        .expect("link proxy");
    let site = NatsServer::builder("s1")
        .jetstream_domain("s1")
        .sync_always()
        .leaf_remote(&link.leaf_url())
        .start()
        .await
        .expect("site server");
    let (hub_js, site_js) = (js(&hub).await, js(&site).await);
    let limits = TelemetryLimits {
        max_bytes: site_max_bytes,
        ..TelemetryLimits::default()
    };
    ensure_site_telemetry_stream(&site_js, &token("s1"), limits)
        .await
        .expect("site telemetry stream");
    ensure_hub_telemetry_copy(&hub_js, &token("s1"), TelemetryLimits::default())
        .await
        .expect("hub copy");
    Pair {
        hub,
        _site: site,
        link,
        hub_js,
        site_js,
    }
}

/// What an agent of node `node` would store at instant `at_ms`: its load, and one label-heavy family.
fn batch(at_ms: i64, i: usize) -> MetricBatch {
    MetricBatch {
        at_ms,
        points: vec![
            MetricPoint::gauge("node_load1", i as f64 / 100.0),
            MetricPoint::counter("node_cpu_seconds_total", i as f64 * 1.5)
                .with("cpu", "0")
                .with("mode", "idle"),
        ],
    }
}

async fn store(js: &async_nats::jetstream::Context, node: &str, batch: &MetricBatch) {
    let subject = format!("ef.tel.s1.{node}.metrics");
    let ack = js
        .publish(subject, batch.encode().expect("encodes").into())
        .await
        .expect("publish");
    ack.await.expect("stored at the site");
}

async fn copied_through(pair: &Pair, last: u64) {
    let stream = "EF_TEL_s1";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let state = stream_state(&pair.hub_js, stream).await.expect("state");
        if state.is_some_and(|s| s.last_seq >= last) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "hub copy stuck at {state:?}, want {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Resumes the hub copy's source now (as the hub does on the site's first beacon after a cut).
async fn resume(pair: &Pair) {
    replay::sourcing::resume_source(&pair.hub_js, "EF_TEL_s1")
        .await
        .expect("resume");
}

async fn forward_all(pair: &Pair, prometheus: &PrometheusServer, cursor: &mut ForwardCursor) -> telemetry::RoundReport {
    let mut total = telemetry::RoundReport::default();
    for _ in 0..100 {
        let report = forward_round(
            &pair.hub_js,
            &token("s1"),
            prometheus.client(),
            &prometheus.remote_write_url(),
            cursor,
            Duration::from_secs(10),
        )
        .await
        .expect("round");
        assert_eq!(report.retry, None);
        total.batches += report.batches;
        total.samples += report.samples;
        total.refused += report.refused;
        if report.batches == 0 && report.backlog == 0 {
            return total;
        }
    }
    panic!("forwarding did not finish: {cursor:?}");
}

#[tokio::test]
async fn every_sample_of_a_cut_arrives_once_and_in_order_and_a_restarted_forwarder_resends_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prometheus = PrometheusServer::start(dir.path(), Duration::from_secs(3600), &[], Duration::from_secs(15))
        .await
        .expect("prometheus");
    let pair = pair(64 << 20).await;
    let start = now_ms() - 20 * 60 * 1000;
    let at = |i: usize| start + i as i64 * 1000;
    // Given two nodes sampling with the link up, forwarded as they go,
    for i in 0..20 {
        for node in ["n1", "n2"] {
            store(&pair.site_js, node, &batch(at(i), i)).await;
        }
    }
    copied_through(&pair, 40).await;
    let mut cursor = ForwardCursor::default();
    forward_all(&pair, &prometheus, &mut cursor).await;
    // when the link is cut while they keep sampling — 400 batches, more than the live lane takes at once —
    pair.link.cut();
    for i in 20..220 {
        for node in ["n1", "n2"] {
            store(&pair.site_js, node, &batch(at(i), i)).await;
        }
    }
    // and fresh samples arrive live right after it heals,
    pair.link.heal();
    resume(&pair).await;
    copied_through(&pair, 440).await;
    // then the forwarder sends the newest first and fills the backlog in behind them;
    let first = forward_round(
        &pair.hub_js,
        &token("s1"),
        prometheus.client(),
        &prometheus.remote_write_url(),
        &mut cursor,
        Duration::from_secs(10),
    )
    .await
    .expect("round");
    assert!(cursor.live.is_some() || cursor.through == 440, "{cursor:?}");
    assert!(first.batches > 0);
    // a forwarder restarted from its saved cursor resends nothing,
    let saved = serde_json::to_vec(&cursor).expect("cursor saves");
    let mut restored: ForwardCursor = serde_json::from_slice(&saved).expect("cursor restores");
    let rest = forward_all(&pair, &prometheus, &mut restored).await;
    assert_eq!(first.batches + rest.batches, 400, "every batch of the cut sent once");
    assert_eq!(restored.through, 440);
    assert_eq!(restored.dropped.total(), 0);
    assert_eq!(restored.delivered_samples, 440 * 2);
    // and Prometheus holds every sample of every series exactly once, in order.
    let stored = prometheus
        .raw_samples(
            r#"{site="s1"}"#,
            Duration::from_secs(1800),
            (at(219) as f64 / 1000.0) + 1.0,
        )
        .await
        .expect("query");
    assert_eq!(stored.len(), 4, "two metrics × two nodes: {stored:?}");
    let want: Vec<i64> = (0..220).map(at).collect();
    for (labels, samples) in stored {
        let times: Vec<i64> = samples.iter().map(|(t, _)| (t * 1000.0).round() as i64).collect();
        assert_eq!(times, want, "{labels}");
    }
}

#[tokio::test]
async fn what_the_sites_limit_discards_during_a_cut_is_counted_at_the_hub() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prometheus = PrometheusServer::start(dir.path(), Duration::from_secs(3600), &[], Duration::from_secs(15))
        .await
        .expect("prometheus");
    // A site whose telemetry cap holds only a few hundred small batches.
    let pair = pair(32 * 1024).await;
    let start = now_ms() - 30 * 60 * 1000;
    let at = |i: usize| start + i as i64 * 1000;
    for i in 0..5 {
        store(&pair.site_js, "n1", &batch(at(i), i)).await;
    }
    copied_through(&pair, 5).await;
    let mut cursor = ForwardCursor::default();
    forward_all(&pair, &prometheus, &mut cursor).await;
    pair.link.cut();
    for i in 5..1505 {
        store(&pair.site_js, "n1", &batch(at(i), i)).await;
    }
    let site_state = stream_state(&pair.site_js, "EF_TEL_s1")
        .await
        .expect("state")
        .expect("stream");
    let discarded = site_state.first_seq - 6;
    assert!(discarded > 0, "the cap discarded batches of the cut: {site_state:?}");
    pair.link.heal();
    resume(&pair).await;
    copied_through(&pair, 5 + 1505 - site_state.first_seq + 1).await;
    forward_all(&pair, &prometheus, &mut cursor).await;
    assert_eq!(cursor.dropped.at_site, discarded, "{cursor:?}");
    assert_eq!(
        cursor.dropped.last_after_ms,
        at(4),
        "the hole starts after the last batch delivered"
    );
    assert_eq!(cursor.dropped.last_before_ms, at(5 + discarded as usize));
    drop(pair.hub);
}
