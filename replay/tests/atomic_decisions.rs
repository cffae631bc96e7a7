//! A decision that yields several events is one message on a real nats-server: stored whole or not at all, read
//! whole by every reader, stored once when retried after a lost ack.

mod common;

use actix::Actor;
use actors::cluster::{ClusterCommand, ClusterState};
use actors::{Dispatch, EventLog, Registry};
use common::{jetstream, log, server_with_streams, site, site_config};
use events::cluster::{ClusterEvent, ProfileRef};
use events::{AggregateRef, Payload, Writer};
use replay::{rebuild_streams, FleetState, Quarantine};
use testkit::token;

fn cluster() -> AggregateRef {
    AggregateRef::cluster(&site(), &token("main"))
}

fn first_join() -> ClusterCommand {
    ClusterCommand::Join {
        node: token("n1"),
        role: None,
        site_image_profile: Some(ProfileRef {
            name: token("store"),
            version: 1,
        }),
    }
}

/// n1 joins cluster `main` through a fresh actor registry on `log`.
async fn join_first_node(log: replay::JetStreamLog) -> actors::Executed<ClusterState> {
    let registry = Registry::<ClusterState, _, _>::new(log, actors::NoSnapshots, site_config()).start();
    let join = Dispatch::<ClusterState>::new(cluster(), first_join(), Some("test".into()));
    registry.send(join).await.expect("registry alive").expect("n1 joins")
}

async fn messages_in_site_stream(js: &async_nats::jetstream::Context) -> u64 {
    let mut stream = js.get_stream("EF_SITE_s1").await.expect("site stream");
    stream.info().await.expect("info").state.messages
}

#[actix_rt::test]
async fn a_cluster_formed_by_its_first_join_is_one_message_and_every_reader_sees_it_whole() {
    // Given a site's cluster registry on a real server
    let server = server_with_streams().await;
    let js = jetstream(&server).await;

    // When the first node joins a cluster that does not exist yet
    let executed = join_first_node(log(&server).await).await;

    // Then the decision is two events (formed, then the member) in one message at one sequence
    let kinds: Vec<&str> = executed
        .events
        .iter()
        .map(|e| match &e.payload {
            Payload::Cluster(ClusterEvent::Formed { .. }) => "formed",
            Payload::Cluster(ClusterEvent::MemberJoined { .. }) => "member joined",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["formed", "member joined"]);
    assert_eq!(messages_in_site_stream(&js).await, 1);
    assert_eq!(
        executed.positions,
        [("EF_SITE_s1".to_string(), 1), ("EF_SITE_s1".to_string(), 1)]
    );

    // And a replay and a fresh actor both hold the formed cluster with its member
    let mut fleet = FleetState::new();
    let report = rebuild_streams(&js, &["EF_SITE_s1".to_string()], &mut fleet, &Quarantine::in_memory())
        .await
        .expect("replay");
    assert_eq!((report.messages, report.quarantined), (1, 0));
    let Some(actors::AnyAggregate::Cluster(replayed)) = fleet.get(&cluster()) else {
        panic!("cluster replayed");
    };
    assert!(replayed.formed());
    assert_eq!(replayed.status.members.len(), 1);
    assert_eq!(fleet.aggregates[&cluster()].events, 2);

    let again = join_first_node(log(&server).await).await;
    assert!(again.events.is_empty(), "n1 is a member already: {:?}", again.events);
}

#[actix_rt::test]
async fn a_decision_retried_after_a_lost_ack_is_stored_once() {
    // Given a two-event decision appended once
    let server = server_with_streams().await;
    let js = jetstream(&server).await;
    let log = log(&server).await;
    let decision = join_first_node(log.clone()).await.events;

    // When the same events are appended again at the same expected position (the writer never saw the ack)
    let retried = log
        .append(&cluster(), Writer::Site, 0, &decision)
        .await
        .expect("a retry of our own decision is not a conflict");

    // Then it is the message already stored, and the stream holds it once
    assert_eq!(retried, [("EF_SITE_s1".to_string(), 1), ("EF_SITE_s1".to_string(), 1)]);
    assert_eq!(messages_in_site_stream(&js).await, 1);
    let tail = log.read(&cluster(), &actors::Positions::default()).await.expect("read");
    assert_eq!(tail.records.len(), 2);
    assert_eq!(
        tail.records.iter().map(|r| r.last_in_message).collect::<Vec<_>>(),
        [false, true]
    );
}
