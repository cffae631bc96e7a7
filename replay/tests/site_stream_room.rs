//! A site stream's byte cap against the room its server's store has: JetStream reserves the cap when the stream is
//! created, so a cap the disk cannot hold refuses the stream, and a smaller cap on a full stream would discard its
//! oldest events.

mod common;

use common::jetstream;
use replay::{ensure_intent_stream, ensure_site_stream, StreamPolicy, StreamSetupError, DEFAULT_SITE_MAX_BYTES};
use testkit::{token, NatsServer};

const MIB: u64 = 1 << 20;

/// The default policy with a site stream cap of `bytes`.
fn capped(bytes: u64) -> StreamPolicy {
    StreamPolicy {
        site_max_bytes: bytes as i64,
        ..StreamPolicy::default()
    }
}

async fn server_with_store(bytes: u64) -> NatsServer {
    NatsServer::builder("small-disk")
        .jetstream_domain("store-1")
        .max_file_store(bytes)
        .start()
        .await
        .expect("nats-server starts")
}

async fn site_stream_info(js: &async_nats::jetstream::Context) -> async_nats::jetstream::stream::Info {
    let mut stream = js.get_stream("EF_SITE_store-1").await.expect("stream");
    stream.info().await.expect("info").clone()
}

#[tokio::test]
async fn the_default_cap_fits_two_site_streams_on_a_store_of_two_and_a_half_gib() {
    // Given a server whose store may keep 2.5 GiB (8 GiB caps asked for 10.7 GiB of free disk per stream)
    let server = server_with_store(2560 * MIB).await;
    let js = jetstream(&server).await;
    let policy = StreamPolicy::default();

    // When the intent stream and two site streams are created with the default policy
    ensure_intent_stream(&js, &policy).await.expect("intent stream");
    for site in ["store-1", "store-0042"] {
        ensure_site_stream(&js, &token(site), &policy)
            .await
            .unwrap_or_else(|e| panic!("{site}: {e}"));
    }

    // Then each holds the default cap
    let info = site_stream_info(&js).await;
    assert_eq!(info.config.max_bytes, DEFAULT_SITE_MAX_BYTES);
}

#[tokio::test]
async fn a_cap_the_store_cannot_reserve_is_refused_plainly() {
    // Given a server whose store may keep 64 MiB
    let server = server_with_store(64 * MIB).await;
    let js = jetstream(&server).await;

    // When a site stream asks for the default 1 GiB cap
    let refused = ensure_site_stream(&js, &token("store-1"), &StreamPolicy::default())
        .await
        .expect_err("1 GiB does not fit 64 MiB");

    // Then the refusal names the stream and the cap and says what to do
    assert_eq!(
        refused,
        StreamSetupError::NoRoom {
            stream: "EF_SITE_store-1".into(),
            max_bytes: DEFAULT_SITE_MAX_BYTES,
        }
    );
    let text = refused.to_string();
    assert!(
        text.contains("free disk space or give the stream a smaller cap"),
        "{text}"
    );

    // And a cap that fits is taken
    let fits = capped(32 * MIB);
    ensure_site_stream(&js, &token("store-1"), &fits)
        .await
        .expect("32 MiB fits");
}

#[tokio::test]
async fn a_cap_below_what_the_stream_holds_is_refused_and_nothing_is_discarded() {
    // Given a site stream holding 200 events of 1 KiB
    let server = server_with_store(256 * MIB).await;
    let js = jetstream(&server).await;
    let roomy = capped(16 * MIB);
    ensure_site_stream(&js, &token("store-1"), &roomy)
        .await
        .expect("stream");
    for i in 0..200 {
        js.publish(format!("ef.site.store-1.node.n{i}"), vec![b'x'; 1024].into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }

    // When the site restarts with a cap of 64 KiB
    let tight = capped(64 * 1024);
    let refused = ensure_site_stream(&js, &token("store-1"), &tight)
        .await
        .expect_err("64 KiB would discard events");

    // Then it is refused, saying how much the stream holds, and every event is still there with the old cap
    let StreamSetupError::WouldDiscard { held_bytes, .. } = refused else {
        panic!("expected WouldDiscard, got {refused}");
    };
    assert!(held_bytes > 200 * 1024, "{held_bytes}");
    let info = site_stream_info(&js).await;
    assert_eq!((info.state.messages, info.config.max_bytes), (200, 16 * MIB as i64));

    // And raising the cap is taken
    let bigger = capped(32 * MIB);
    ensure_site_stream(&js, &token("store-1"), &bigger)
        .await
        .expect("raised");
}
