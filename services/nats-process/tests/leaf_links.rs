//! Leaf links across JetStream domains between real nats-servers.

mod common;

use std::time::Duration;

use common::{jetstream_info, TestResult};
use nats_process::NatsServer;
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
