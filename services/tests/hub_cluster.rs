//! A hub that survives losing a machine: three `edgefleet hub` processes, each with its own nats-server, routed
//! into one JetStream cluster (intents, image bucket, leases and shared trust R3); the API answered by whichever
//! hub the request reaches, the rollout orchestrator run by the one holding the lease, the site's leaf link dialling
//! any of the three.
//!
//! During a rollout and a burst of acknowledged API writes, each hub's nats-server is killed with `kill -9` in
//! turn (its hub restarts it), then each hub process with its server (and started again): no acknowledged write is
//! lost or doubled, the rollout finishes, and a site added through one hub is known to all three.

mod common;

use common::cli::{json, ok, rollout_args, try_json};
use common::store_fleet::{publish, ready_on_v1, rollout_complete};
use common::{eventually, file_appears, Hub, Site};
use futures::StreamExt;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};
use testkit::free_port::free_ports;

/// Three hubs in `dir/hub-0..2`; hub-0 makes the trust root, the others copy it.
async fn hub_cluster(dir: &Path) -> Vec<Hub> {
    let ports = free_ports::<9>();
    let (clients, leaves, routes) = (&ports[0..3], &ports[3..6], &ports[6..9]);
    let leaf_urls: Vec<String> = leaves.iter().map(|p| format!("nats-leaf://127.0.0.1:{p}")).collect();
    let client_urls: Vec<String> = clients.iter().map(|p| format!("nats://127.0.0.1:{p}")).collect();
    let first = dir.join("hub-0");
    let mut hubs = Vec::new();
    for i in 0..3 {
        let data_dir = dir.join(format!("hub-{i}"));
        let mut extra = vec![
            "--server-name".to_string(),
            format!("hub-{i}"),
            "--cluster-listen".into(),
            format!("127.0.0.1:{}", routes[i]),
            "--leaf-url".into(),
            leaf_urls.join(","),
        ];
        for (j, port) in routes.iter().enumerate() {
            if j != i {
                extra.extend(["--route".to_string(), format!("nats-route://127.0.0.1:{port}")]);
            }
        }
        if i > 0 {
            // The first hub's trust root is complete once its CA bundle is written.
            file_appears(&first.join("ca.pem")).await;
            extra.extend(["--trust-from".to_string(), first.display().to_string()]);
        }
        let process = Hub::spawn(dir, &data_dir, clients[i], leaves[i], &[], &extra);
        hubs.push(Hub {
            process,
            client_port: clients[i],
            leaf_port: leaves[i],
            data_dir,
            extra_args: extra,
            clients_url: Some(client_urls.join(",")),
        });
    }
    for hub in &hubs {
        hub_running(hub, 1).await;
    }
    hubs
}

/// Waits until `hub`'s log says it is running for the `nth` time (its process started that often).
async fn hub_running(hub: &Hub, nth: usize) {
    eventually(
        &format!("{} running ({nth})", hub.data_dir.display()),
        Duration::from_secs(90),
        || async { (hub.process.log_text().matches("hub running:").count() >= nth).then_some(()) },
    )
    .await;
}

/// Waits until every replica of the intent stream is current again (the cluster healed after a kill).
async fn intents_replicated(hub: &Hub) {
    let js = async_nats::jetstream::new(hub.cluster_client().await);
    eventually("EF_INTENT on three current replicas", Duration::from_secs(60), || {
        let js = js.clone();
        async move {
            let info = js.get_stream("EF_INTENT").await.ok()?.info().await.ok()?.clone();
            let cluster = info.cluster?;
            let current = cluster.replicas.iter().filter(|r| r.current && !r.offline).count();
            (cluster.leader.is_some() && current == 2).then_some(())
        }
    })
    .await;
}

/// What the burst saw: every acknowledged label value and when, and the failures.
#[derive(Default)]
struct Burst {
    acked: Vec<(u64, Instant)>,
    failed: u64,
    stop: bool,
}

/// Labels site `s1` with `burst=<i>` for i = 0, 1, … through the API until stopped, one request at a time.
async fn burst(client: async_nats::Client, record: Rc<RefCell<Burst>>) {
    let mut i = 0u64;
    while !record.borrow().stop {
        let body = serde_json::json!({"id": "s1", "labels": {"burst": i.to_string()}}).to_string();
        let request = client.request("ef.api.v1.sites.label", body.into());
        // A request that reached a hub as it died gets no answer: a client gives up after 3 s and goes on.
        let answer = tokio::time::timeout(Duration::from_secs(3), request).await;
        let acked = matches!(&answer, Ok(Ok(reply))
            if serde_json::from_slice::<serde_json::Value>(&reply.payload).is_ok_and(|v| v.get("error").is_none()));
        {
            let mut record = record.borrow_mut();
            if acked {
                record.acked.push((i, Instant::now()));
            } else {
                record.failed += 1;
            }
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every `burst` label value in the intent stream, with how often it was written.
async fn burst_labels_in_log(hub: &Hub) -> BTreeMap<u64, usize> {
    let js = async_nats::jetstream::new(hub.cluster_client().await);
    let stream = js.get_stream("EF_INTENT").await.expect("EF_INTENT");
    let last = stream.get_info().await.expect("info").state.last_sequence;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let mut seen = BTreeMap::new();
    while let Some(message) = messages.next().await {
        let message = message.expect("message");
        for envelope in events::decode_message(&message.payload).expect("decodes") {
            if let events::Payload::Site(events::site::SiteEvent::LabelsSet { labels, .. }) = envelope.payload {
                if let Some(i) = labels.get("burst").and_then(|v| v.parse::<u64>().ok()) {
                    *seen.entry(i).or_insert(0) += 1;
                }
            }
        }
        if message.info().expect("info").stream_sequence >= last {
            break;
        }
    }
    seen
}

#[actix_rt::test]
async fn killing_each_hub_server_and_each_hub_process_in_turn_loses_no_acknowledged_write_and_the_rollout_finishes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hubs = hub_cluster(dir.path()).await;
    let leaf_urls: Vec<String> = hubs
        .iter()
        .map(|h| format!("nats-leaf://127.0.0.1:{}", h.leaf_port))
        .collect();
    let mut sites = Vec::new();
    for (i, id) in ["s1", "s2"].into_iter().enumerate() {
        // Each site added through another hub.
        let through = &hubs[i + 1];
        sites.push(Site::start_leafing(dir.path(), through, id, &[], None, Some(&leaf_urls.join(","))).await);
    }
    let _agents = ready_on_v1(&hubs[0], dir.path(), &sites).await;

    // A site added through one hub is known to all three (the shared trust).
    for hub in &hubs {
        let known = hub.api("sites.list").await.to_string();
        assert!(
            known.contains("\"s1\"") && known.contains("\"s2\""),
            "{}: {known}",
            hub.data_dir.display()
        );
    }

    publish(&hubs[0], dir.path(), "2026.12", 2);
    let record = Rc::new(RefCell::new(Burst::default()));
    let writer = actix_rt::spawn(burst(hubs[0].cluster_client().await, record.clone()));
    // Two waves, held between them for the whole series of kills: the second is released by whichever hub holds
    // the orchestrator lease once they are over.
    ok(&hubs[0], &rollout_args("r1", "edge-stack@2", "1,100%"));
    ok(&hubs[1], &["rollouts", "pause", "r1"]);

    // kill -9 each hub's nats-server in turn; its hub starts it again.
    let mut kills = Vec::new();
    for hub in &hubs {
        let before = record.borrow().acked.len();
        kills.push((format!("nats-server of {}", hub.data_dir.display()), Instant::now()));
        common::process::kill9(common::nats_pid(&hub.data_dir.join("nats")));
        intents_replicated(hub).await;
        eventually("writes acknowledged again", Duration::from_secs(60), || async {
            (record.borrow().acked.len() > before + 3).then_some(())
        })
        .await;
    }
    // kill -9 each hub process with its server, and start it again.
    for hub in hubs.iter_mut() {
        let before = record.borrow().acked.len();
        kills.push((format!("hub process {}", hub.data_dir.display()), Instant::now()));
        hub.process.kill_group();
        hub.process = hub.respawn(dir.path());
        hub_running(hub, 2).await;
        intents_replicated(hub).await;
        eventually("writes acknowledged again", Duration::from_secs(60), || async {
            (record.borrow().acked.len() > before + 3).then_some(())
        })
        .await;
    }

    let held = json(&hubs[2], &["rollouts", "get", "r1"]);
    assert_eq!(
        held["released_waves"], 1,
        "the second wave waits for the operator: {held}"
    );
    ok(&hubs[2], &["rollouts", "resume", "r1"]);
    let done = rollout_complete(&hubs[0], "r1").await;
    assert_eq!(done["released_waves"], 2);
    record.borrow_mut().stop = true;
    let _ = writer.await;

    let record = std::mem::take(&mut *record.borrow_mut());
    let in_log = burst_labels_in_log(&hubs[1]).await;
    let lost: Vec<u64> = record
        .acked
        .iter()
        .map(|(i, _)| *i)
        .filter(|i| !in_log.contains_key(i))
        .collect();
    let doubled: Vec<u64> = in_log.iter().filter(|(_, n)| **n > 1).map(|(i, _)| *i).collect();
    assert!(lost.is_empty(), "acknowledged but not in the log: {lost:?}");
    assert!(doubled.is_empty(), "written twice: {doubled:?}");
    let longest_gap = record
        .acked
        .windows(2)
        .map(|w| w[1].1 - w[0].1)
        .max()
        .unwrap_or_default();
    println!(
        "hub cluster: {} writes acknowledged, {} refused or timed out, longest time without an acknowledged write \
         {longest_gap:?}",
        record.acked.len(),
        record.failed
    );
    for (what, at) in &kills {
        let next = record.acked.iter().find(|(_, t)| t > at).map(|(_, t)| *t - *at);
        println!("  kill -9 {what}: next acknowledged write after {next:?}");
    }
    assert!(
        try_json(&hubs[2], &["sites", "get", "s1"]).is_some(),
        "the CLI reaches the cluster"
    );
}
