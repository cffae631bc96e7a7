//! Leaf links across JetStream domains between real nats-servers.

mod common;

use std::time::Duration;

use common::test_ca::TestCa;
use common::{jetstream_info, wait_until, TestResult};
use futures::StreamExt as _;
use nats_process::{ClientCredentials, LeafRemote, NatsServer};
use tokio::time::Instant;

#[tokio::test]
async fn hub_reaches_the_jetstream_api_of_a_leaf_in_its_own_domain() -> TestResult {
    let hub = NatsServer::hub().await?;
    let hub_leaf_url = hub.leaf_url().expect("the hub listens for leaves");
    let site = NatsServer::builder("site-a")
        .jetstream_domain("site-a")
        .leaf_remote(&hub_leaf_url)
        .start()
        .await?;

    // The site's own API answers for its own domain, not the hub's.
    let site_info = jetstream_info(&site.connect().await?, "$JS.API.INFO").await?;
    assert_eq!(site_info["domain"], "site-a");

    // From the hub, the site's API is `$JS.site-a.API`, once the leaf link is up.
    let hub_client = hub.connect().await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let info = loop {
        let last = jetstream_info(&hub_client, "$JS.site-a.API.INFO").await;
        match last {
            Ok(info) if info.get("error").is_none() => break info,
            _ if Instant::now() >= deadline => {
                panic!("hub never reached $JS.site-a.API.INFO; last answer: {last:?}")
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    assert_eq!(info["domain"], "site-a");
    Ok(())
}

#[tokio::test]
async fn a_leaf_remote_with_a_ca_dials_a_tls_hub_and_messages_cross_the_link() -> TestResult {
    let ca = TestCa::localhost()?;
    let hub = NatsServer::builder("tls-hub")
        .jetstream_domain("hub")
        .leaf_listen()
        .tls(ca.files.clone())
        .auth_config(
            "accounts {\n  HUB: {\n    jetstream: enabled\n    users: [\n      {user: admin, password: admin-pw}\n      \
             {user: leaf, password: leaf-pw}\n    ]\n  }\n}\n",
        )
        .client_credentials(ClientCredentials::UserPassword {
            user: "admin".to_owned(),
            password: "admin-pw".to_owned(),
        })
        .start()
        .await?;
    let leaf_port = hub.leaf_port().expect("the hub listens for leaves");
    let site = NatsServer::builder("tls-site")
        .jetstream_domain("site-a")
        .leaf_remote_to(LeafRemote {
            ca: Some(ca.files.ca.clone()),
            ..LeafRemote::new(&format!("nats-leaf://leaf:leaf-pw@127.0.0.1:{leaf_port}"))
        })
        .start()
        .await?;

    let mut on_hub = hub.connect().await?.subscribe("ef.hello").await?;
    let site_client = site.connect().await?;
    // Interest crosses the link once it is up; publish until a message arrives.
    let deadline = Instant::now() + Duration::from_secs(10);
    let received = loop {
        site_client.publish("ef.hello", "from site-a".into()).await?;
        match tokio::time::timeout(Duration::from_millis(100), on_hub.next()).await {
            Ok(Some(message)) => break message,
            _ if Instant::now() >= deadline => panic!(
                "no message crossed the TLS leaf link; hub log:\n{}",
                std::fs::read_to_string(hub.log_path())?
            ),
            _ => {}
        }
    };
    assert_eq!(received.payload.as_ref(), b"from site-a");
    Ok(())
}

/// Waits up to 5 s until `server`'s log contains `text`.
async fn wait_for_log_line(server: &NatsServer, text: &str) {
    let log_path = server.log_path();
    let what = format!("{:?} in {log_path:?}", text);
    wait_until(&what, 5_000, || {
        std::fs::read_to_string(&log_path).is_ok_and(|log| log.contains(text))
    })
    .await;
}

#[tokio::test]
async fn a_leaf_remote_trusts_only_its_ca_and_never_falls_back_to_plain_tcp() -> TestResult {
    let ca = TestCa::localhost()?;
    let tls_hub = NatsServer::builder("tls-only-hub")
        .leaf_listen()
        .tls(ca.files.clone())
        .start()
        .await?;
    let plain_hub = NatsServer::builder("plain-hub").leaf_listen().start().await?;

    // Without the CA, the hub's certificate is checked against the system roots, which do not know it.
    let without_ca = NatsServer::builder("site-without-ca")
        .leaf_remote_to(LeafRemote::new(&tls_hub.leaf_url().expect("leaf port")))
        .start()
        .await?;
    // With a CA, the remote speaks TLS even to a hub that does not.
    let insisting = NatsServer::builder("site-insisting-on-tls")
        .leaf_remote_to(LeafRemote {
            ca: Some(ca.files.ca.clone()),
            ..LeafRemote::new(&plain_hub.leaf_url().expect("leaf port"))
        })
        .start()
        .await?;

    wait_for_log_line(&without_ca, "x509: certificate signed by unknown authority").await;
    wait_for_log_line(&insisting, "Leafnode connection closed: TLS Handshake Failure").await;
    Ok(())
}
