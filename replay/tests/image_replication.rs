//! OS images put in the hub's object store arrive in each site's replica over the leaf link and read back whole.

use futures::StreamExt;
use std::time::Duration;
use testkit::NatsServer;
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn an_image_put_at_the_hub_is_readable_at_the_site() {
    let hub = NatsServer::hub().await.expect("hub");
    let site = NatsServer::builder("s1")
        .jetstream_domain("s1")
        .leaf_remote(&hub.leaf_url().expect("leaf url"))
        .start()
        .await
        .expect("site");
    let hub_js = async_nats::jetstream::new(hub.connect().await.expect("connect"));
    let site_js = async_nats::jetstream::new(site.connect().await.expect("connect"));
    let hub_store = replay::sourcing::hub_image_store(&hub_js).await.expect("hub bucket");
    let site_store =
        replay::sourcing::ensure_site_image_replica(&site_js, replay::sourcing::image_source_from_hub_domain())
            .await
            .expect("site replica");
    replay::sourcing::ensure_site_image_replica(&site_js, replay::sourcing::image_source_from_hub_domain())
        .await
        .expect("idempotent");

    let image: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    hub_store
        .put("edge-os-2026.12", &mut image.as_slice())
        .await
        .expect("put at the hub");

    let read = testkit::eventually("the image at the site", Duration::from_secs(20), || async {
        let mut object = site_store.get("edge-os-2026.12").await.ok()?;
        let mut bytes = Vec::new();
        (object.read_to_end(&mut bytes).await.is_ok() && bytes.len() == image.len()).then_some(bytes)
    })
    .await;
    assert_eq!(read, image);
    let listed: Vec<_> = site_store
        .list()
        .await
        .expect("list")
        .filter_map(|o| async { o.ok() })
        .collect()
        .await;
    assert_eq!(listed.len(), 1);
}
