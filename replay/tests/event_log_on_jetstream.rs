//! The JetStream event log against a real nats-server: append, races, dedup, quarantine, durability.

mod common;

use actors::{EventLog, LogError, Positions};
use common::{log, server_with_streams, site};
use events::node::NodeEvent;
use events::{AggregateRef, Envelope, EventId, Hlc, Origin, Payload, Writer};
use testkit::fixtures::sample_inventory;
use testkit::token;

fn node() -> AggregateRef {
    AggregateRef::node(&site(), &token("n1"))
}

fn site_event(payload: impl Into<Payload>, ms: u64) -> Envelope {
    Envelope {
        id: EventId::generate(ms),
        aggregate: node(),
        origin: Origin::Site(site()),
        hlc: Hlc {
            physical_ms: ms,
            logical: 0,
        },
        by: Some("test".into()),
        payload: payload.into(),
    }
}

fn hub_event(payload: impl Into<Payload>, ms: u64) -> Envelope {
    Envelope {
        origin: Origin::Hub,
        ..site_event(payload, ms)
    }
}

#[tokio::test]
async fn appended_events_are_read_back_from_both_writer_streams() {
    let server = server_with_streams().await;
    let log = log(&server).await;
    let registered = site_event(
        NodeEvent::Registered {
            inventory: sample_inventory(1),
        },
        1,
    );
    let labelled = hub_event(
        NodeEvent::LabelsSet {
            generation: 1,
            labels: Default::default(),
        },
        2,
    );

    let site_written = log
        .append(&node(), Writer::Site, 0, std::slice::from_ref(&registered))
        .await
        .expect("site append");
    let hub_written = log
        .append(&node(), Writer::Hub, 0, std::slice::from_ref(&labelled))
        .await
        .expect("hub append");
    assert_eq!(site_written, vec![("EF_SITE_s1".to_string(), 1)]);
    assert_eq!(hub_written, vec![("EF_INTENT".to_string(), 1)]);

    let tail = log.read(&node(), &Positions::default()).await.expect("read");
    let envelopes: Vec<_> = tail.records.iter().map(|r| r.envelope.clone()).collect();
    assert_eq!(envelopes, vec![labelled, registered]);
    assert_eq!(tail.scanned.get("EF_SITE_s1"), 1);
    assert_eq!(tail.scanned.get("EF_INTENT"), 1);

    let nothing_new = log.read(&node(), &tail.scanned).await.expect("read tail");
    assert!(nothing_new.records.is_empty());
}

#[tokio::test]
async fn two_writers_racing_on_one_aggregate_exactly_one_wins_each_round() {
    let server = server_with_streams().await;
    let (a, b) = (log(&server).await, log(&server).await);
    let rounds = 25;
    let mut expected = 0;
    for round in 0..rounds {
        let event_a = hub_event(NodeEvent::Unassigned { generation: round + 1 }, round * 2);
        let event_b = hub_event(NodeEvent::Unassigned { generation: round + 1 }, round * 2 + 1);
        let aggregate = node();
        let (ra, rb) = tokio::join!(
            a.append(&aggregate, Writer::Hub, expected, std::slice::from_ref(&event_a)),
            b.append(&aggregate, Writer::Hub, expected, std::slice::from_ref(&event_b)),
        );
        let winners: Vec<_> = [&ra, &rb].into_iter().filter(|r| r.is_ok()).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one append wins, got {ra:?} / {rb:?}"
        );
        let loser = if ra.is_ok() { &rb } else { &ra };
        assert!(
            matches!(loser, Err(LogError::Conflict { .. })),
            "round {round}: the loser sees a conflict"
        );
        expected = winners[0].as_ref().map(|w| w[0].1).unwrap_or_default();
    }
    let tail = a.read(&node(), &Positions::default()).await.expect("read");
    assert_eq!(
        tail.records.len() as u64,
        rounds,
        "one event per round, none lost, none doubled"
    );
}

#[tokio::test]
async fn a_retried_append_is_stored_once() {
    let server = server_with_streams().await;
    let log = log(&server).await;
    let event = site_event(
        NodeEvent::Registered {
            inventory: sample_inventory(1),
        },
        1,
    );
    let first = log
        .append(&node(), Writer::Site, 0, std::slice::from_ref(&event))
        .await
        .expect("first append");
    // The retry carries the same expected sequence (the writer never saw the ack) and the same event id.
    let retry = log
        .append(&node(), Writer::Site, 0, std::slice::from_ref(&event))
        .await
        .expect("retry is not an error");
    assert_eq!(first, retry, "the retry reports the original position");
    let tail = log.read(&node(), &Positions::default()).await.expect("read");
    assert_eq!(tail.records.len(), 1);
}

#[tokio::test]
async fn a_site_cannot_append_fleet_wide_aggregates() {
    let server = server_with_streams().await;
    let log = log(&server).await;
    let profile = AggregateRef::profile(&token("p"));
    let result = log.append(&profile, Writer::Site, 0, &[]).await;
    assert!(matches!(result, Err(LogError::NotWritable { .. })));
}

#[tokio::test]
async fn corrupt_and_unknown_version_bytes_are_quarantined_and_reading_goes_on() {
    let server = server_with_streams().await;
    let log = log(&server).await;
    let client = server.connect().await.expect("client");
    let js = async_nats::jetstream::new(client);
    let subject = "ef.site.s1.node.n1";

    log.append(
        &node(),
        Writer::Site,
        0,
        &[site_event(
            NodeEvent::Registered {
                inventory: sample_inventory(1),
            },
            1,
        )],
    )
    .await
    .expect("append");
    js.publish(subject, vec![0xde, 0xad, 0xbe, 0xef, 0x01].into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    let mut future_version = events::encode(&site_event(NodeEvent::CameBack, 2));
    future_version[2] = 99;
    js.publish(subject, future_version.into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    log.append(
        &node(),
        Writer::Site,
        3,
        &[site_event(NodeEvent::Ready { observed_generation: 0 }, 4)],
    )
    .await
    .expect("append after the corrupt ones");

    let tail = log.read(&node(), &Positions::default()).await.expect("read");
    assert_eq!(
        tail.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 4],
        "valid events are kept"
    );
    assert_eq!(
        tail.scanned.get("EF_SITE_s1"),
        4,
        "positions move past quarantined messages"
    );
    let quarantined = log.quarantine().entries();
    assert_eq!(quarantined.len(), 2);
    assert_eq!((quarantined[0].stream.as_str(), quarantined[0].seq), ("EF_SITE_s1", 2));
    assert!(quarantined[0].reason.contains("bad magic"), "{}", quarantined[0].reason);
    assert!(
        quarantined[1].reason.contains("unknown schema version 99"),
        "{}",
        quarantined[1].reason
    );

    // Reading again does not count the same messages twice.
    log.read(&node(), &Positions::default()).await.expect("read again");
    assert_eq!(log.quarantine().count(), 2);
}

#[tokio::test]
async fn acknowledged_events_survive_kill_9() {
    let mut server = server_with_streams().await;
    let log1 = log(&server).await;
    let event = site_event(
        NodeEvent::Registered {
            inventory: sample_inventory(7),
        },
        1,
    );
    log1.append(&node(), Writer::Site, 0, std::slice::from_ref(&event))
        .await
        .expect("append acked");
    server.kill9();
    server.restart().await.expect("restart");
    let log2 = log(&server).await;
    let tail = log2
        .read(&node(), &Positions::default())
        .await
        .expect("read after restart");
    assert_eq!(tail.records.len(), 1);
    assert_eq!(tail.records[0].envelope, event);
}

#[tokio::test]
async fn a_rebuild_across_many_batches_applies_every_event_quarantines_the_corrupt_one_and_resumes_from_its_mark() {
    // Given 1,200 events of 300 nodes in the site stream, with corrupt bytes at sequence 700
    let server = server_with_streams().await;
    let js = async_nats::jetstream::new(server.connect().await.expect("client"));
    let publish = |subject: String, bytes: Vec<u8>| {
        let js = js.clone();
        async move {
            js.publish(subject, bytes.into())
                .await
                .expect("publish")
                .await
                .expect("ack")
        }
    };
    for i in 0..1_200u64 {
        let n = token(&format!("n{}", i % 300));
        let subject = format!("ef.site.s1.node.{n}");
        if i == 699 {
            publish(subject, vec![0xba, 0xd0]).await;
            continue;
        }
        let event = Envelope {
            aggregate: AggregateRef::node(&site(), &n),
            ..site_event(NodeEvent::CameBack, i + 1)
        };
        publish(subject, events::encode(&event)).await;
    }
    let streams = ["EF_SITE_s1".to_string()];

    // When the fleet is rebuilt from nothing
    let quarantine = replay::Quarantine::in_memory();
    let mut fleet = replay::FleetState::new();
    let report = replay::rebuild_streams(&js, &streams, &mut fleet, &quarantine)
        .await
        .expect("rebuild");

    // Then every message was read, the corrupt one quarantined, and each node holds its 4 events
    assert_eq!(
        (report.messages, report.quarantined, report.aggregates),
        (1_200, 1, 300)
    );
    assert_eq!(fleet.high_water.get("EF_SITE_s1"), Some(&1_200));
    let events_of =
        |fleet: &replay::FleetState, n: &str| fleet.aggregates[&AggregateRef::node(&site(), &token(n))].events;
    assert_eq!(
        (events_of(&fleet, "n0"), events_of(&fleet, "n99")),
        (4, 3),
        "n99 lost only seq 700"
    );

    // And a rebuild of the same fleet after 10 more events reads only those
    for i in 0..10u64 {
        let event = site_event(NodeEvent::CameBack, 2_000 + i);
        publish("ef.site.s1.node.n1".into(), events::encode(&event)).await;
    }
    let tail = replay::rebuild_streams(&js, &streams, &mut fleet, &quarantine)
        .await
        .expect("rebuild the tail");
    assert_eq!((tail.messages, tail.quarantined), (10, 0));
    assert_eq!((events_of(&fleet, "n1"), fleet.high_water["EF_SITE_s1"]), (14, 1_210));
}
