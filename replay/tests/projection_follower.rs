//! A projection follower against a real nats-server whose consumer stops delivering without an error (here: paused
//! on the server, which an ordered consumer cannot tell from a quiet stream): the follower notices its stream moved
//! on and follows again from what it applied.

mod common;

use common::{jetstream, server_with_streams, site};
use events::node::NodeEvent;
use events::{AggregateRef, Envelope, EventId, Hlc, Origin};
use futures::TryStreamExt;
use replay::{FleetState, Projection, Quarantine};
use std::time::Duration;
use testkit::token;

async fn publish_came_back(js: &async_nats::jetstream::Context, n: u64) {
    let node = AggregateRef::node(&site(), &token(&format!("n{n}")));
    let envelope = Envelope {
        id: EventId::generate(n + 1),
        aggregate: node,
        origin: Origin::Site(site()),
        hlc: Hlc::default(),
        by: None,
        payload: NodeEvent::CameBack.into(),
    };
    js.publish(format!("ef.site.s1.node.n{n}"), events::encode(&envelope).into())
        .await
        .expect("publish")
        .await
        .expect("ack");
}

async fn applied(projection: &Projection, through: u64) {
    testkit::eventually_with(
        &format!("applied through {through}"),
        Duration::from_secs(30),
        || async {
            let high_water = projection.high_water("EF_SITE_s1");
            if high_water >= through {
                Ok(())
            } else {
                Err(format!("applied through {high_water}"))
            }
        },
    )
    .await
}

#[tokio::test]
async fn a_follower_whose_consumer_stops_delivering_follows_again_from_what_it_applied() {
    // Given a projection following the site stream, 5 events in
    let server = server_with_streams().await;
    let js = jetstream(&server).await;
    for n in 0..5 {
        publish_came_back(&js, n).await;
    }
    let projection = Projection::new(FleetState::new(), Quarantine::in_memory());
    projection.claim("EF_SITE_s1");
    let follower = tokio::spawn(replay::projection::follow(
        projection.clone(),
        js.clone(),
        "EF_SITE_s1".to_string(),
    ));
    applied(&projection, 5).await;

    // When its consumer stops delivering (paused for an hour: no error, heartbeats go on) and 5 more events come
    let stream = js.get_stream("EF_SITE_s1").await.expect("stream");
    let consumers: Vec<String> = stream.consumer_names().try_collect().await.expect("consumer names");
    assert_eq!(consumers.len(), 1, "{consumers:?}");
    let an_hour =
        async_nats::datetime::add_std_duration(async_nats::datetime::now(), Duration::from_secs(3600)).expect("a time");
    stream.pause_consumer(&consumers[0], an_hour).await.expect("paused");
    for n in 5..10 {
        publish_came_back(&js, n).await;
    }

    // Then within seconds the follower sees its stream ahead of it and follows again, applying each event once
    applied(&projection, 10).await;
    let events: u64 = projection.read(|fleet| fleet.aggregates.values().map(|e| e.events).sum());
    assert_eq!(events, 10);
    follower.abort();
}
