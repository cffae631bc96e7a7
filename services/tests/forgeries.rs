//! The forgeries a probe of an unauthenticated fleet got through (issue 11), each tried again on a real hub with
//! two real sites: every one is refused and changes nothing. Plus: every port speaks TLS and wants credentials, and
//! no anonymous client or rogue leaf server gets in.

mod common;

use common::security::{anonymous, assert_tls_and_auth_required};
use common::{agent, eventually, Hub, Site};
use events::node::NodeEvent;
use events::{AggregateRef, Envelope, EventId, Hlc, Origin, Writer};
use nats_process::{LeafRemote, NatsServer};
use std::time::Duration;

/// An event as a forger would encode it, claiming `origin`.
fn forged(aggregate: &AggregateRef, origin: Origin, payload: NodeEvent) -> Vec<u8> {
    let now = actors::process_clock::system_wall_ms();
    events::encode(&Envelope {
        id: EventId::generate(now),
        aggregate: aggregate.clone(),
        origin,
        hlc: Hlc {
            physical_ms: now,
            logical: 0,
        },
        by: Some("operator".into()),
        payload: payload.into(),
    })
}

/// The last sequence of the hub's intent stream.
async fn intents_at_hub(hub: &Hub) -> u64 {
    replay::stream_reader::last_seq(&hub.js().await, events::subject::INTENT_STREAM)
        .await
        .expect("read")
        .expect("EF_INTENT exists")
}

/// A client with short request timeouts.
fn quick(options: async_nats::ConnectOptions) -> async_nats::ConnectOptions {
    options.request_timeout(Some(Duration::from_secs(2)))
}

#[actix_rt::test]
async fn every_port_speaks_tls_and_refuses_anonymous_clients_and_rogue_leaves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start_with_image(dir.path(), &hub, "store-1", &[], None).await;

    assert_tls_and_auth_required("the hub's client port", hub.client_port);
    assert_tls_and_auth_required("the hub's leafnode port", hub.leaf_port);
    assert_tls_and_auth_required("the site's client port", site.client_port);
    use async_nats::ConnectErrorKind::AuthorizationViolation;
    assert_eq!(
        anonymous(&hub.url(), &hub.ca()).await.err(),
        Some(AuthorizationViolation)
    );
    assert_eq!(
        anonymous(&site.url(), &site.ca()).await.err(),
        Some(AuthorizationViolation)
    );

    // A rogue nats-server dials the hub's leafnode port as a leaf, with the hub's (public) CA but no credentials.
    let intents_before = intents_at_hub(&hub).await;
    let rogue = NatsServer::builder("rogue")
        .jetstream_domain("rogue")
        .leaf_remote_to(LeafRemote {
            url: format!("nats-leaf://127.0.0.1:{}", hub.leaf_port),
            credentials: None,
            local_account: None,
            ca: Some(hub.ca()),
        })
        .start()
        .await
        .expect("the rogue server runs");
    eventually("the hub refusing the rogue leaf", Duration::from_secs(20), || async {
        let log = std::fs::read_to_string(rogue.log_path()).ok()?;
        log.contains("Authorization Violation").then_some(())
    })
    .await;
    let through_rogue = quick(async_nats::ConnectOptions::new())
        .connect(rogue.client_url())
        .await
        .expect("the rogue's own client");
    for (subject, body) in [
        ("$JS.hub.API.STREAM.DELETE.EF_INTENT", ""),
        ("ef.api.v1.clusters.delete", r#"{"id":"main","site":"store-1"}"#),
        ("ef.api.v1.sites.list", ""),
    ] {
        assert!(
            through_rogue.request(subject, body.into()).await.is_err(),
            "{subject} must find no responder through a rogue leaf"
        );
    }
    assert_eq!(intents_at_hub(&hub).await, intents_before, "nothing changed at the hub");
    assert!(hub.api("sites.list").await.as_array().is_some_and(|s| s.len() == 1));
}

#[actix_rt::test]
async fn sites_cannot_write_intents_forge_other_sites_invent_sites_or_answer_the_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let s1 = Site::start_with_image(dir.path(), &hub, "store-1", &[], None).await;
    let s2 = Site::start_with_image(dir.path(), &hub, "store-2", &[], None).await;
    let _agents = [agent(dir.path(), &s1, "n1"), agent(dir.path(), &s2, "n3")];
    eventually("both nodes at the hub", Duration::from_secs(60), || async {
        (hub.api("nodes.list").await.as_array()?.len() == 2).then_some(())
    })
    .await;
    let intents_before = intents_at_hub(&hub).await;
    let n3 = AggregateRef::node(&s2.id, &testkit::token("n3"));
    let n9 = AggregateRef::node(&s1.id, &testkit::token("n9"));

    // Forgery 1 and 2: clients of store-2 and of store-1 (as each site's own process, the most a site holds)
    // write hub intents — a reset of store-2/n3 — on the intent subject and through the hub's JetStream API.
    let reset = NodeEvent::ResetRequested { generation: 99 };
    let intent_subject = events::subject::subject(Writer::Hub, &n3).expect("hub subject");
    for site in [&s1, &s2] {
        let client = site.client().await;
        let js = async_nats::jetstream::new(client.clone());
        let published = js
            .publish(intent_subject.clone(), forged(&n3, Origin::Hub, reset.clone()).into())
            .await;
        let acked = match published {
            Ok(ack) => tokio::time::timeout(Duration::from_secs(3), ack)
                .await
                .is_ok_and(|a| a.is_ok()),
            Err(_) => false,
        };
        assert!(
            !acked,
            "{}: an intent published at a site is never acknowledged",
            site.id
        );
        assert!(
            tokio::time::timeout(
                Duration::from_secs(3),
                client.request("$JS.hub.API.STREAM.INFO.EF_INTENT", "".into())
            )
            .await
            .map_or(true, |r| r.is_err()),
            "{}: the hub's JetStream API is out of reach",
            site.id
        );
        // Forgery 3: store-2 writes a registration of a phantom node into store-1's stream (store-1 itself is the
        // writer of its own stream, so only the other site's attempt is a forgery).
        if site.id == s2.id {
            client
                .publish(
                    events::subject::subject(Writer::Site, &n9).expect("site subject"),
                    forged(
                        &n9,
                        Origin::Site(s1.id.clone()),
                        NodeEvent::Registered {
                            inventory: testkit::fixtures::sample_inventory(9),
                        },
                    )
                    .into(),
                )
                .await
                .expect("a core publish is fire and forget");
        }
        // Forgery 4: beacons for sites that do not exist, and for the reserved ids.
        for ghost in ["ghost", "hub", "all"] {
            let beacon =
                serde_json::json!({"site": ghost, "site_last_seq": 0, "controller_version": "x", "unix_ms": 0});
            client
                .publish(format!("ef.hub.beacon.{ghost}"), beacon.to_string().into())
                .await
                .expect("publish");
        }
        client.flush().await.expect("flush");
    }

    // Forgery 5: a site client listens on the API subjects and answers them; operators still get the hub.
    let eavesdropper = s1.client().await;
    let mut overheard = eavesdropper.subscribe("ef.api.v1.>").await.expect("subscribe");
    eavesdropper.flush().await.expect("flush");
    for _ in 0..10 {
        let sites = hub.api("sites.list").await;
        let ids: Vec<&str> = sites
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|s| s["site"].as_str())
            .collect();
        assert_eq!(
            ids,
            ["store-1", "store-2"],
            "the hub answered, with only the added sites"
        );
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(500), futures::StreamExt::next(&mut overheard))
            .await
            .is_err(),
        "no operator request reaches a site"
    );

    // Nothing changed: no intent, no reset, no phantom node, no invented site, and no cluster for "all".
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(intents_at_hub(&hub).await, intents_before, "no intent was stored");
    let nodes = hub.api("nodes.list").await;
    let ids: Vec<String> = nodes
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| format!("{}/{}", n["site"], n["id"]))
        .collect();
    assert_eq!(ids.len(), 2, "no phantom node: {ids:?}");
    let history = common::cli::ok(&hub, &["history", "node/store-2/n3"]);
    assert!(!history.contains("NodeResetRequested"), "{history}");
    let evil = common::cli::run(
        &hub,
        &["clusters", "create", "evil", "--site", "all", "--profile", "p@1"],
    );
    assert_eq!(evil.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&evil.stderr).contains("not part of this fleet"));
    for reserved in ["all", "hub", "fleet"] {
        let out = common::cli::run(
            &hub,
            &[
                "sites",
                "add",
                reserved,
                "--out",
                &dir.path().join(reserved).display().to_string(),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "site id {reserved} is refused");
        assert!(String::from_utf8_lossy(&out.stderr).contains("reserved"));
    }
}
