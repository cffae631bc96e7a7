//! A hub nats-server configured from the trust root (operator mode, full resolver, TLS from the fleet CA on the
//! client port) refuses clients that do not trust the fleet CA, and serves JetStream in the HUB account to
//! `admin.creds`. (Auth and TLS on both ports: `fleet_recipe`.)

mod support;

use async_nats::jetstream;
use support::{connect, hub_in_temp_dir, HubTls};

#[tokio::test]
async fn a_client_that_does_not_trust_the_fleet_ca_cannot_connect() {
    let (_dir, root, hub) = hub_in_temp_dir(HubTls::ClientPort).await;
    let other_dir = tempfile::tempdir().unwrap();
    let other_ca = fleet_trust::FleetCa::open_or_create(other_dir.path()).unwrap();

    let refused = connect(
        &hub.client_url,
        &root.layout().admin_creds(),
        Some(other_ca.cert_path()),
    )
    .await
    .unwrap_err();

    // async-nats reports a rejected server certificate as an I/O error of the handshake.
    assert!(refused.to_string().contains("UnknownIssuer"), "{refused}");
}

#[tokio::test]
async fn the_admin_uses_jetstream_in_the_hub_account() {
    let (_dir, _root, hub) = hub_in_temp_dir(HubTls::ClientPort).await;
    let js = jetstream::new(hub.admin_client().await);

    js.create_stream(jetstream::stream::Config {
        name: "EF_INTENT".to_owned(),
        subjects: vec!["ef.intent.>".to_owned()],
        ..Default::default()
    })
    .await
    .unwrap();
    let ack = js
        .publish("ef.intent.a.node.n1", "x".into())
        .await
        .unwrap()
        .await
        .unwrap();

    assert_eq!(ack.stream, "EF_INTENT");
    assert_eq!(ack.sequence, 1);
    assert_eq!(ack.domain, "hub");
}
