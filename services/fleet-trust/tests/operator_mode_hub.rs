//! A hub nats-server configured from the trust root (operator mode, full resolver, TLS from the fleet CA on the
//! client port) requires authentication and TLS, refuses anonymous clients, and serves JetStream in the hub account
//! to `admin.creds`.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::time::Duration;

use async_nats::jetstream;
use support::{connect, hub_in_temp_dir, HubTls};

/// The INFO line a server sends first, in clear text, before any TLS.
fn first_info(port: u16) -> serde_json::Value {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    let json = line
        .strip_prefix("INFO ")
        .unwrap_or_else(|| panic!("not an INFO line: {line:?}"));
    serde_json::from_str(json.trim()).unwrap()
}

#[tokio::test]
async fn the_hub_announces_that_it_requires_auth_and_tls() {
    let (_dir, _root, hub) = hub_in_temp_dir(HubTls::ClientPort).await;

    let info = first_info(hub.client_port);

    assert_eq!(info["auth_required"], true, "{info}");
    assert_eq!(info["tls_required"], true, "{info}");
}

#[tokio::test]
async fn an_anonymous_client_is_refused() {
    let (_dir, root, hub) = hub_in_temp_dir(HubTls::ClientPort).await;

    let refused = async_nats::ConnectOptions::new()
        .add_root_certificates(root.fleet_ca().cert_path().to_owned())
        .require_tls(true)
        .connection_timeout(Duration::from_secs(2))
        .connect(&hub.client_url)
        .await
        .unwrap_err();

    assert_eq!(
        refused.kind(),
        async_nats::ConnectErrorKind::AuthorizationViolation,
        "{refused}"
    );
}

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
