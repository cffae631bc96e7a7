//! Telemetry end to end, on real processes: agents sampling their node's `/proc` every second, a site storing
//! their batches, a hub copying and forwarding them to a real Prometheus. A cut of the site's link, then a hub that
//! dies between a delivered write and its cursor — and PromQL finds every sample of the site's stream exactly once,
//! in order, per series.

mod common;

use common::{agent_with_env, eventually_with, Hub, Site};
use std::collections::BTreeMap;
use std::time::Duration;
use telemetry::{MetricBatch, PrometheusServer};

/// How long the site's link stays cut: several minutes of samples the hub cannot see.
const CUT: Duration = Duration::from_secs(180);
const NODES: [&str; 2] = ["n1", "n2"];

fn interval_env() -> Vec<(&'static str, String)> {
    vec![("EDGEFLEET_TELEMETRY_INTERVAL_S", "1".to_string())]
}

/// Every sampling instant (ms) the site's telemetry stream holds, per node: the ground truth.
async fn stored_at_site(site: &Site) -> BTreeMap<String, Vec<i64>> {
    let js = site.js().await;
    let stream = format!("EF_TEL_{}", site.id);
    let last = telemetry::telemetry_streams::stream_state(&js, &stream)
        .await
        .expect("site stream state")
        .map_or(0, |s| s.last_seq);
    let read = telemetry::copy_reader::read_range(&js, &stream, 1, last)
        .await
        .expect("site stream read");
    let mut by_node: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for batch in read.into_iter().filter(|b| b.subject.ends_with(".metrics")) {
        let node = batch.subject.split('.').nth(3).unwrap_or_default().to_string();
        let decoded = MetricBatch::decode(&batch.payload).expect("a stored batch decodes");
        by_node.entry(node).or_default().push(decoded.at_ms);
    }
    by_node
}

/// The sample times Prometheus holds for `metric` of `node` over the last hour.
async fn stored_in_prometheus(prometheus: &PrometheusServer, metric: &str, node: &str) -> Vec<i64> {
    let now = actors::process_clock::system_wall_ms() as f64 / 1000.0 + 5.0;
    let selector = format!(r#"{metric}{{site="s1",node="{node}"}}"#);
    let series = prometheus
        .raw_samples(&selector, Duration::from_secs(3600), now)
        .await
        .expect("query");
    assert!(series.len() <= 1, "one series per node: {series:?}");
    series
        .first()
        .map(|(_, samples)| samples.iter().map(|(t, _)| (t * 1000.0).round() as i64).collect())
        .unwrap_or_default()
}

/// Waits until every batch the site stored is in Prometheus, then checks each node's series hold exactly the
/// site's sampling instants: none missing, none twice, in order.
async fn every_sample_once(site: &Site, prometheus: &PrometheusServer, hub: &Hub) {
    let truth = stored_at_site(site).await;
    eventually_with(
        "every stored sample in Prometheus",
        Duration::from_secs(120),
        || async {
            for node in NODES {
                let want = truth.get(node).cloned().unwrap_or_default();
                let have = stored_in_prometheus(prometheus, "node_load1", node).await;
                let missing = want.iter().filter(|t| !have.contains(t)).count();
                if missing > 0 {
                    let sites = hub.api("sites.list").await;
                    return Err(format!("{node}: {missing} of {} missing; {sites}", want.len()));
                }
            }
            Ok(())
        },
    )
    .await;
    for node in NODES {
        let want = &truth[node];
        for metric in ["node_load1", "node_time_seconds", "edgefleet_node_uptime_seconds"] {
            let have = stored_in_prometheus(prometheus, metric, node).await;
            let window: Vec<i64> = have
                .iter()
                .copied()
                .filter(|t| t >= &want[0] && t <= &want[want.len() - 1])
                .collect();
            assert_eq!(
                &window, want,
                "{metric} of {node}: every instant the site stored, once, in order"
            );
        }
    }
}

async fn samples_arrive(prometheus: &PrometheusServer) {
    eventually_with("live samples in Prometheus", Duration::from_secs(60), || async {
        for node in NODES {
            if stored_in_prometheus(prometheus, "node_load1", node).await.len() < 3 {
                return Err(format!("{node} has fewer than 3 samples"));
            }
        }
        Ok(())
    })
    .await;
}

#[actix_rt::test]
async fn a_cut_and_a_hub_crash_mid_delivery_lose_and_double_nothing_in_prometheus() {
    let dir = tempfile::tempdir().expect("temp dir");
    let prometheus = PrometheusServer::start(
        &dir.path().join("prometheus"),
        Duration::from_secs(3600),
        &[],
        Duration::from_secs(15),
    )
    .await
    .expect("prometheus");
    let remote_write = vec!["--remote-write".to_string(), prometheus.remote_write_url().to_string()];
    let mut hub = Hub::start_with_args(dir.path(), &dir.path().join("hub"), &[], remote_write).await;
    let site = Site::start(dir.path(), &hub, "s1", &[]).await;
    let _agents: Vec<_> = NODES
        .iter()
        .map(|node| agent_with_env(dir.path(), &site, node, &interval_env()))
        .collect();
    // Given two nodes whose samples reach Prometheus,
    samples_arrive(&prometheus).await;

    // when the site's link is cut for several minutes while they keep sampling, and heals,
    site.link.cut();
    tokio::time::sleep(CUT).await;
    site.link.heal();
    // then every sample of the cut arrives, once and in order;
    every_sample_once(&site, &prometheus, &hub).await;
    let sites = hub.api("sites.list").await;
    let delivery = &sites[0]["telemetry"][0];
    assert_eq!(delivery["dropped_at_site"], 0, "{sites}");
    assert_eq!(delivery["refused_samples"], 0, "{sites}");

    // and when the hub dies after a delivered write but before recording it, during a second cut's backlog,
    site.link.cut();
    hub.process.kill_group();
    hub.process = Hub::spawn(
        dir.path(),
        &hub.data_dir,
        hub.client_port,
        hub.leaf_port,
        &[("EDGEFLEET_FAULT", "telemetry.delivered_before_cursor_saved".to_string())],
        &hub.extra_args,
    );
    hub.wait_ready().await;
    tokio::time::sleep(Duration::from_secs(20)).await;
    site.link.heal();
    hub.wait_exit(Duration::from_secs(90)).await;
    assert!(
        hub.process
            .log_text()
            .contains("fault point telemetry.delivered_before_cursor_saved reached"),
        "the hub died mid-delivery"
    );
    hub.restart(dir.path()).await;
    // then the restarted hub finishes the delivery, and still every sample is there exactly once.
    every_sample_once(&site, &prometheus, &hub).await;
}
