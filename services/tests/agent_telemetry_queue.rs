//! An agent's samples outlive the agent: with its site down, the agent keeps sampling into its on-disk queue; killed
//! with -9 and started again, it sends what it sampled before the kill once the site is back.

mod common;

use common::{agent_with_env, eventually_with, Hub, Site};
use futures::StreamExt;
use std::time::Duration;

fn now_ms() -> u64 {
    actors::process_clock::system_wall_ms()
}

/// The sample times of `node`'s metric batches in the site's telemetry stream, read as the site process.
async fn batch_times(site: &Site, node: &str) -> Vec<u64> {
    use async_nats::jetstream::consumer::pull::OrderedConfig;
    let js = site.js().await;
    let stream = events::subject::telemetry_stream(&site.id);
    let Ok(handle) = js.get_stream(&stream).await else {
        return vec![];
    };
    let Ok(consumer) = handle
        .create_consumer(OrderedConfig {
            filter_subject: format!("ef.tel.{}.{node}.metrics", site.id),
            ..Default::default()
        })
        .await
    else {
        return vec![];
    };
    let Ok(mut messages) = consumer.messages().await else {
        return vec![];
    };
    let mut times = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(1), messages.next()).await {
        if let Ok(batch) = telemetry::MetricBatch::decode(&message.payload) {
            times.push(batch.at_ms.max(0) as u64);
        }
        if message.info().map(|i| i.pending).unwrap_or(0) == 0 {
            break;
        }
    }
    times
}

#[actix_rt::test]
async fn samples_taken_while_the_site_was_down_survive_an_agent_killed_before_it_came_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = Hub::start(dir.path()).await;
    let mut site = Site::start(dir.path(), &hub, "q1", &[]).await;
    let every_second = [("EDGEFLEET_TELEMETRY_INTERVAL_S", "1".to_string())];
    let mut agent = agent_with_env(dir.path(), &site, "n1", &every_second);
    eventually_with("the agent's batches at the site", Duration::from_secs(60), || async {
        let times = batch_times(&site, "n1").await;
        (times.len() >= 2)
            .then_some(())
            .ok_or(format!("{} batches", times.len()))
    })
    .await;

    // Given the site down while the agent keeps sampling,
    site.stop();
    let down_from = now_ms();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let down_until = now_ms();
    // when the agent is killed -9 before the site comes back, and started again,
    agent.kill_group();
    agent = agent_with_env(dir.path(), &site, "n1", &every_second);
    site.restart(dir.path()).await;
    // then what it sampled while the site was down reaches the site's stream.
    let outage = eventually_with("the outage's samples at the site", Duration::from_secs(90), || async {
        let times = batch_times(&site, "n1").await;
        let during: Vec<u64> = times
            .iter()
            .copied()
            .filter(|t| *t > down_from + 1_000 && *t < down_until)
            .collect();
        if during.len() >= 6 {
            Ok(during)
        } else {
            Err(format!("{} of {} batches in the outage", during.len(), times.len()))
        }
    })
    .await;
    let mut sorted = outage.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), outage.len(), "each sample stored once: {outage:?}");
    drop(agent);
}
