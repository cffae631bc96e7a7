//! The intent stream on a three-server JetStream cluster (R3), the storage a clustered hub stands on: a burst of
//! acknowledged intents while one server is killed with -9 loses none and stores none twice.

use futures::StreamExt;
use replay::StreamPolicy;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use testkit::free_port::free_ports;
use testkit::{ClusterRoutes, NatsServer};

const INTENTS: u64 = 1_500;
const KILL_AFTER: u64 = 500;

async fn cluster_of_three() -> Vec<NatsServer> {
    let routes = free_ports::<3>();
    let member = |i: usize| {
        let peers = routes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| *p)
            .collect::<Vec<u16>>();
        NatsServer::builder(&format!("hub-{i}"))
            .jetstream_domain("hub")
            .sync_always()
            .cluster(ClusterRoutes::on_loopback("hub", routes[i], &peers))
            .start()
    };
    // Started together: JetStream answers only once a quorum of the cluster is up.
    let (a, b, c) = tokio::join!(member(0), member(1), member(2));
    vec![a.expect("hub-0"), b.expect("hub-1"), c.expect("hub-2")]
}

/// Publishes intent `i` with its message id until a server acknowledges it (any server of the cluster); returns
/// how long that took.
async fn publish_until_acked(js: &async_nats::jetstream::Context, i: u64) -> Duration {
    let started = Instant::now();
    loop {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, format!("hub-intent-{i}").as_str());
        let subject = format!("ef.intent.all.profile.p{}", i % 50);
        let attempt = async {
            js.publish_with_headers(subject, headers, format!("{i}").into())
                .await?
                .await
                .map_err(async_nats::Error::from)
        };
        match tokio::time::timeout(Duration::from_secs(1), attempt).await {
            Ok(Ok(_)) => return started.elapsed(),
            Ok(Err(_)) | Err(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "intent {i} not acknowledged within 60 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test]
async fn a_burst_of_acknowledged_intents_survives_kill_9_of_any_one_server() {
    // Given the intent stream with three replicas on a three-server cluster
    let mut servers = cluster_of_three().await;
    let urls: Vec<async_nats::ServerAddr> = servers
        .iter()
        .map(|s| s.client_url().parse().expect("server address"))
        .collect();
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(urls)
        .await
        .expect("client connects to the cluster");
    let js = async_nats::jetstream::new(client);
    let policy = StreamPolicy {
        intent_replicas: 3,
        ..StreamPolicy::default()
    };
    replay::ensure_intent_stream(&js, &policy)
        .await
        .expect("R3 intent stream");

    // When intents are written one after another, each until acknowledged, and the stream's leader is killed -9
    // after the first 500
    let leader = {
        let mut stream = js.get_stream("EF_INTENT").await.expect("stream");
        let info = stream.info().await.expect("info");
        info.cluster.as_ref().and_then(|c| c.leader.clone()).expect("a leader")
    };
    let mut longest = Duration::ZERO;
    for i in 0..INTENTS {
        if i == KILL_AFTER {
            let victim = servers
                .iter_mut()
                .find(|s| leader.ends_with(s.name()))
                .expect("the leader is ours");
            victim.kill9();
        }
        longest = longest.max(publish_until_acked(&js, i).await);
    }
    eprintln!("FIGURE longest wait for one acknowledged intent around kill -9 of the stream leader: {longest:?}");

    // Then, with the killed server back, the stream holds every acknowledged intent exactly once
    for server in servers.iter_mut() {
        if server.pid().is_none() {
            server.restart().await.expect("restarted");
        }
    }
    let stream = js.get_stream("EF_INTENT").await.expect("stream");
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("reader");
    let mut messages = consumer.messages().await.expect("messages");
    let mut seen = BTreeSet::new();
    let mut total = 0;
    while total < INTENTS {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("every intent readable")
            .expect("a message")
            .expect("readable");
        total += 1;
        seen.insert(String::from_utf8_lossy(&message.payload).into_owned());
    }
    assert_eq!(seen.len() as u64, INTENTS, "every acknowledged intent once");
    let mut info_stream = js.get_stream("EF_INTENT").await.expect("stream");
    assert_eq!(
        info_stream.info().await.expect("info").state.messages,
        INTENTS,
        "and nothing twice"
    );
}
