//! Stream sourcing across JetStream domains over a real leaf connection: the hub copies each site's stream, each
//! site copies the intents addressed to it and to `all` — and nothing else.

use actors::{EventLog, Positions};
use events::node::NodeEvent;
use events::profile::ProfileEvent;
use events::{AggregateRef, Envelope, EventId, Hlc, Origin, Payload, Token, Writer};
use replay::{JetStreamLog, Quarantine, StreamPolicy};
use std::time::Duration;
use testkit::fixtures::{sample_inventory, sample_layers};
use testkit::{token, NatsServer};

async fn js(server: &NatsServer) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(server.connect().await.expect("connect"))
}

async fn site_server(hub: &NatsServer, site: &str) -> NatsServer {
    let leaf_url = hub.leaf_url().expect("hub listens for leaves");
    let server = NatsServer::builder(site)
        .jetstream_domain(site)
        .sync_always()
        .leaf_remote(&leaf_url)
        .start()
        .await
        .expect("site server starts");
    let js = js(&server).await;
    let policy = StreamPolicy::default();
    replay::ensure_site_stream(&js, &token(site), &policy)
        .await
        .expect("site stream");
    replay::ensure_site_copy_of_intents(
        &js,
        replay::sourcing::intent_sources_from_hub_domain(&token(site)),
        &policy,
    )
    .await
    .expect("intent copy");
    server
}

fn envelope(aggregate: AggregateRef, origin: Origin, payload: impl Into<Payload>) -> Envelope {
    Envelope {
        id: EventId::generate(1),
        aggregate,
        origin,
        hlc: Hlc::default(),
        by: None,
        payload: payload.into(),
    }
}

async fn wait_for_events(log: &JetStreamLog, aggregate: &AggregateRef, count: usize) -> Vec<Envelope> {
    testkit::eventually_with(
        &format!("{count} events of {aggregate}"),
        Duration::from_secs(15),
        || async {
            let tail = log.read(aggregate, &Positions::default()).await.expect("read");
            if tail.records.len() >= count {
                Ok(tail.records.into_iter().map(|r| r.envelope).collect())
            } else {
                Err(format!("{} arrived", tail.records.len()))
            }
        },
    )
    .await
}

#[tokio::test]
async fn site_events_reach_the_hub_and_each_site_gets_only_its_intents() {
    let hub = NatsServer::hub().await.expect("hub");
    let hub_js = js(&hub).await;
    let policy = StreamPolicy::default();
    replay::ensure_intent_stream(&hub_js, &policy).await.expect("intents");
    let (s1, s2) = (site_server(&hub, "s1").await, site_server(&hub, "s2").await);
    for site in ["s1", "s2"] {
        replay::ensure_hub_copy_of_site(&hub_js, &token(site), &policy)
            .await
            .expect("hub copy");
    }
    let hub_log = JetStreamLog::new(hub_js.clone(), Quarantine::in_memory());
    let s1_log = JetStreamLog::new(js(&s1).await, Quarantine::in_memory());
    let s2_log = JetStreamLog::new(js(&s2).await, Quarantine::in_memory());

    let n1 = AggregateRef::node(&token("s1"), &token("n1"));
    let n9 = AggregateRef::node(&token("s2"), &token("n9"));
    let profile = AggregateRef::profile(&token("edge"));
    let registered = envelope(
        n1.clone(),
        Origin::Site(token("s1")),
        NodeEvent::Registered {
            inventory: sample_inventory(1),
        },
    );
    s1_log
        .append(&n1, Writer::Site, 0, std::slice::from_ref(&registered))
        .await
        .expect("site append");
    let assigned = envelope(n1.clone(), Origin::Hub, NodeEvent::Unassigned { generation: 1 });
    hub_log
        .append(&n1, Writer::Hub, 0, std::slice::from_ref(&assigned))
        .await
        .expect("intent for s1");
    let other = envelope(n9.clone(), Origin::Hub, NodeEvent::Unassigned { generation: 1 });
    hub_log
        .append(&n9, Writer::Hub, 0, std::slice::from_ref(&other))
        .await
        .expect("intent for s2");
    let published = envelope(
        profile.clone(),
        Origin::Hub,
        ProfileEvent::VersionPublished {
            version: 1,
            layers: sample_layers("v1"),
        },
    );
    hub_log
        .append(&profile, Writer::Hub, 0, std::slice::from_ref(&published))
        .await
        .expect("fleet-wide intent");

    assert_eq!(
        wait_for_events(&hub_log, &n1, 2).await,
        vec![assigned.clone(), registered.clone()],
        "hub sees both writers"
    );
    assert_eq!(
        wait_for_events(&s1_log, &n1, 2).await,
        vec![assigned, registered],
        "s1 sees its intent"
    );
    assert_eq!(
        wait_for_events(&s1_log, &profile, 1).await,
        vec![published.clone()],
        "s1 sees fleet-wide intents"
    );
    assert_eq!(
        wait_for_events(&s2_log, &profile, 1).await,
        vec![published],
        "s2 sees fleet-wide intents"
    );
    assert_eq!(wait_for_events(&s2_log, &n9, 1).await, vec![other]);
    let s1_has_s2_intent = s1_log.read(&n9, &Positions::default()).await.expect("read");
    assert!(s1_has_s2_intent.records.is_empty(), "s1 must not copy s2's intents");

    let status = replay::source_status(&hub_js, "EF_SITE_s1")
        .await
        .expect("status")
        .expect("copy exists");
    assert_eq!(status.copied_messages, 1);
    let _: Token = token("s1");
}

#[tokio::test]
async fn the_hub_copies_a_site_without_fsync_per_write_and_an_older_copy_keeps_its_mode() {
    use async_nats::jetstream::stream::PersistenceMode;
    // Given a hub whose own streams fsync every write
    let hub = NatsServer::hub().await.expect("hub");
    let hub_js = js(&hub).await;
    let policy = StreamPolicy::default();

    // When it makes its copy of store-1's stream
    replay::ensure_hub_copy_of_site(&hub_js, &token("store-1"), &policy)
        .await
        .expect("copy");

    // Then the copy is written asynchronously (it can always be copied again from the site)
    let mode = |name: &'static str| {
        let hub_js = hub_js.clone();
        async move {
            let mut stream = hub_js.get_stream(name).await.expect("stream");
            stream.info().await.expect("info").config.persist_mode
        }
    };
    assert_eq!(mode("EF_SITE_store-1").await, Some(PersistenceMode::Async));

    // And a copy made before, with the default mode (which cannot change after creation), keeps it: set-up works
    hub_js
        .create_stream(async_nats::jetstream::stream::Config {
            name: "EF_SITE_store-2".into(),
            sources: Some(vec![async_nats::jetstream::stream::Source {
                name: "EF_SITE_store-2".into(),
                external: Some(async_nats::jetstream::stream::External {
                    api_prefix: "$JS.store-2.API".into(),
                    delivery_prefix: None,
                }),
                ..Default::default()
            }]),
            ..Default::default()
        })
        .await
        .expect("an older copy");
    replay::ensure_hub_copy_of_site(&hub_js, &token("store-2"), &policy)
        .await
        .expect("set-up of an older copy");
    assert_ne!(mode("EF_SITE_store-2").await, Some(PersistenceMode::Async));
}

#[tokio::test]
async fn a_copy_left_without_its_sources_by_an_interrupted_resume_gets_them_back() {
    // Given a site whose intent copy lost its sources (a resume removed them and the server refused to put them
    // back: it was reloading its config)
    let hub = NatsServer::hub().await.expect("hub");
    let hub_js = js(&hub).await;
    let policy = StreamPolicy::default();
    replay::ensure_intent_stream(&hub_js, &policy).await.expect("intents");
    let site = site_server(&hub, "s1").await;
    let site_js = js(&site).await;
    let mut copy = site_js.get_stream("EF_INTENT").await.expect("copy");
    let mut config = copy.info().await.expect("info").config.clone();
    config.sources = Some(vec![]);
    site_js.update_stream(&config).await.expect("sources removed");
    assert!(
        !replay::resume_source(&site_js, "EF_INTENT").await.expect("resume"),
        "nothing to resume from"
    );

    // When the site resumes it with the sources it should have
    let wanted = replay::sourcing::intent_sources_from_hub_domain(&token("s1"));
    let resumed = replay::sourcing::resume_source_as(&site_js, "EF_INTENT", wanted)
        .await
        .expect("resume");

    // Then the copy sources again, and an intent for the site arrives
    assert!(resumed);
    let n1 = AggregateRef::node(&token("s1"), &token("n1"));
    let intent = envelope(n1.clone(), Origin::Hub, NodeEvent::Unassigned { generation: 1 });
    let hub_log = JetStreamLog::new(hub_js.clone(), Quarantine::in_memory());
    hub_log
        .append(&n1, Writer::Hub, 0, std::slice::from_ref(&intent))
        .await
        .expect("intent");
    let site_log = JetStreamLog::new(site_js, Quarantine::in_memory());
    assert_eq!(wait_for_events(&site_log, &n1, 1).await, vec![intent]);
}
