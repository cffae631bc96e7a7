//! A site's own nats-server configured with the rendered `accounts { SITE … NODES … }` block enforces who may connect
//! and what the join user and each joined node may do (real nats-server, plain TCP, free port, own temp dir): the
//! users' permissions in `NODES`, and the account boundary, which `SITE`'s services alone cross.
//!
//! A permission violation is dropped by the server and reported to the client as an asynchronous `-ERR`, which
//! these tests read from the client's events. "The responder never saw it" is shown by order: the server handles a
//! client's messages in order, so once a later allowed request reaches the responder first, the refused one never
//! will.

mod site_auth_support;

use std::time::Duration;

use async_nats::jetstream;
use async_nats::{ConnectErrorKind, ConnectOptions, Event};
use fleet_trust::{join_subject, node_inbox_prefix, node_permissions, node_subjects, IMAGE_BUCKET, JOIN_INBOX_PREFIX};
use futures::{FutureExt, StreamExt};
use site_auth_support::{
    create_site_stream, expect_disconnected, expect_violation, image_bucket_with, image_bytes, next_request,
    no_violations, published_by, respond, subject_matches, DirectGetReader, SiteFixture, JOIN_PASSWORD,
};

/// The stream of the image bucket.
const IMAGE_STREAM: &str = "OBJ_ef-images";

/// How long a test waits for something it expects.
const DEADLINE: Duration = Duration::from_secs(20);

/// How the reply subject of a request that crossed a service import starts, as the site process sees it in `SITE`:
/// the server's own, never the requester's inbox (the answer is delivered there, in `NODES`).
const SERVICE_REPLY_PREFIX: &str = "_R_.";

#[tokio::test]
async fn anonymous_clients_wrong_join_passwords_and_unknown_nodes_are_refused() {
    let site = SiteFixture::start("").await;

    let anonymous = ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(&site.server.url)
        .await;
    let wrong_password = site.join_client("not the token").await;
    let unknown_node = ConnectOptions::with_nkey(fleet_trust::UserKey::generate().seed())
        .connection_timeout(Duration::from_secs(2))
        .connect(&site.server.url)
        .await;

    for (who, refused) in [
        ("an anonymous client", anonymous.err()),
        ("a wrong join password", wrong_password.err()),
        ("an unknown node key", unknown_node.err()),
    ] {
        let error = refused.unwrap_or_else(|| panic!("{who} was let in"));
        assert_eq!(error.kind(), ConnectErrorKind::AuthorizationViolation, "{who}: {error}");
    }
    assert!(site.join_client(JOIN_PASSWORD).await.is_ok(), "the right join password");
}

#[tokio::test]
async fn the_join_user_may_ask_to_join_and_learn_the_site_id() {
    let site = SiteFixture::start("").await;
    let mut joins = respond(&site.process_client().await, &join_subject(&site.site)).await;
    let mut joining = site.join_client(JOIN_PASSWORD).await.expect("connect as the join user");

    let answer = joining
        .client
        .request(join_subject(&site.site), "hello".into())
        .await
        .expect("a join request is answered");
    let account = jetstream::new(joining.client.clone())
        .query_account()
        .await
        .expect("account info");

    assert_eq!(&answer.payload[..], b"welcome");
    let request = next_request(&mut joins).await;
    let reply = request.reply.expect("a request has a reply subject");
    assert!(reply.starts_with(SERVICE_REPLY_PREFIX), "{reply}");
    assert_eq!(account.domain.as_deref(), Some(site.site.as_str()));
    no_violations(&mut joining).await;
}

#[tokio::test]
async fn the_join_user_may_not_speak_for_a_node_or_the_site() {
    let site = SiteFixture::start("").await;
    let process = site.process_client().await;
    let mut agent_requests = respond(&process, &format!("ef.agent.{}.>", site.site)).await;
    let mut site_messages = respond(&process, &format!("ef.site.{}.>", site.site)).await;
    let mut joining = site.join_client(JOIN_PASSWORD).await.expect("connect as the join user");
    let heartbeat = format!("ef.agent.{}.n1.heartbeat", site.site);
    let site_event = format!("ef.site.{}.node.n1", site.site);
    let image_bucket_info = format!("$JS.API.STREAM.INFO.{IMAGE_STREAM}");

    for subject in [&heartbeat, &site_event, &image_bucket_info] {
        joining
            .client
            .publish(subject.clone(), "forged".into())
            .await
            .expect("publish");
        expect_violation(&mut joining, subject).await;
    }
    joining
        .client
        .request(join_subject(&site.site), "hello".into())
        .await
        .expect("a join request is still answered");

    assert_eq!(
        next_request(&mut agent_requests).await.subject,
        join_subject(&site.site)
    );
    assert!(
        site_messages.try_recv().is_err(),
        "a site subject reached the site process"
    );
}

#[tokio::test]
async fn the_join_user_may_only_subscribe_to_its_own_inbox() {
    let site = SiteFixture::start("").await;
    let mut joining = site.join_client(JOIN_PASSWORD).await.expect("connect as the join user");

    for subject in [
        format!("ef.agent.{}.>", site.site),
        format!("{}.>", node_inbox_prefix(&token("n1"))),
        "_INBOX.>".to_owned(),
    ] {
        let _subscription = joining.client.subscribe(subject.clone()).await.expect("subscribe");
        let message = expect_violation(&mut joining, &subject).await;
        assert!(message.contains("Subscription"), "{message}");
    }
}

#[tokio::test]
async fn a_node_may_request_only_on_its_own_subjects() {
    let site = SiteFixture::start("").await;
    let process = site.process_client().await;
    let mut agent_requests = respond(&process, &format!("ef.agent.{}.>", site.site)).await;
    let mut site_messages = respond(&process, &format!("ef.site.{}.>", site.site)).await;
    let mut n1 = site.node_client("n1").await.expect("connect as n1");
    let own = format!("ef.agent.{}.n1.heartbeat", site.site);

    let forged = [
        format!("ef.agent.{}.n2.heartbeat", site.site),
        format!("ef.site.{}.node.n1", site.site),
        join_subject(&site.site),
    ];
    for subject in &forged {
        n1.client
            .publish(subject.clone(), "forged".into())
            .await
            .expect("publish");
        expect_violation(&mut n1, subject).await;
    }
    let answer = n1
        .client
        .request(own.clone(), "alive".into())
        .await
        .expect("own heartbeat answered");
    let account = jetstream::new(n1.client.clone())
        .query_account()
        .await
        .expect("account info");

    assert_eq!(&answer.payload[..], b"welcome");
    let first = next_request(&mut agent_requests).await;
    assert_eq!(first.subject, own, "a forged request reached the site process first");
    let reply = first.reply.expect("a request has a reply subject");
    assert!(reply.starts_with(SERVICE_REPLY_PREFIX), "{reply}");
    assert!(
        site_messages.try_recv().is_err(),
        "a site subject reached the site process"
    );
    assert_eq!(account.domain.as_deref(), Some(site.site.as_str()));
}

/// The site process sees each request of a node or the join user once, under the subject it was sent to, with a
/// reply subject whose answer reaches the requester.
#[tokio::test]
async fn a_node_may_not_subscribe_to_other_nodes_the_join_user_or_the_site() {
    let site = SiteFixture::start("").await;
    let mut n1 = site.node_client("n1").await.expect("connect as n1");

    for subject in [
        format!("{}.>", node_inbox_prefix(&token("n2"))),
        format!("{JOIN_INBOX_PREFIX}.>"),
        format!("ef.site.{}.>", site.site),
        format!("ef.agent.{}.>", site.site),
    ] {
        let _subscription = n1.client.subscribe(subject.clone()).await.expect("subscribe");
        let message = expect_violation(&mut n1, &subject).await;
        assert!(message.contains("Subscription"), "{message}");
    }
}

#[tokio::test]
async fn a_node_may_not_write_or_delete_any_stream() {
    let site = SiteFixture::start("").await;
    let process_js = jetstream::new(site.process_client().await);
    let site_stream = create_site_stream(&process_js, &site.site).await;
    image_bucket_with(&site.process_client().await, "os-1", &image_bytes(1000)).await;
    let mut n1 = site.node_client("n1").await.expect("connect as n1");
    let node_js = jetstream::new(n1.client.clone());

    let stream_publish = format!("ef.site.{}.node.n1", site.site);
    let published = node_js.publish(stream_publish.clone(), "forged".into()).await;
    expect_violation(&mut n1, &stream_publish).await;
    drop(published);
    let chunk_write = format!("$O.{IMAGE_BUCKET}.C.forged");
    n1.client
        .publish(chunk_write.clone(), "forged".into())
        .await
        .expect("publish");
    expect_violation(&mut n1, &chunk_write).await;
    for stream_name in [site_stream.as_str(), IMAGE_STREAM] {
        let deleted = node_js.delete_stream(stream_name).await;
        assert!(deleted.is_err(), "{stream_name} deleted by a node");
        expect_violation(&mut n1, &format!("$JS.API.STREAM.DELETE.{stream_name}")).await;
        let purge = format!("$JS.API.STREAM.PURGE.{stream_name}");
        n1.client.publish(purge.clone(), "".into()).await.expect("publish");
        expect_violation(&mut n1, &purge).await;
    }

    let mut site_stream_handle = process_js
        .get_stream(&site_stream)
        .await
        .expect("the site stream is still there");
    let info = site_stream_handle.info().await.expect("stream info");
    assert_eq!(info.state.messages, 0);
    let mut images = process_js
        .get_stream(IMAGE_STREAM)
        .await
        .expect("the image bucket is still there");
    assert_eq!(
        images.info().await.expect("stream info").state.messages,
        2,
        "one chunk and the metadata"
    );
}

#[tokio::test]
async fn a_node_reads_an_image_with_direct_gets_only() {
    let site = SiteFixture::start("").await;
    let image = image_bytes(300 * 1000);
    image_bucket_with(&site.process_client().await, "os-1", &image).await;
    let mut n1 = site.node_client("n1").await.expect("connect as n1");

    let reader = DirectGetReader::open(&jetstream::new(n1.client.clone()), "os-1").await;
    let chunks = reader.info.chunks;
    let read = reader.read_to_end().await;

    assert!(chunks >= 3, "{chunks} chunks");
    assert!(read == image, "the image read differs from the one put");
    no_violations(&mut n1).await;
}

#[tokio::test]
async fn a_node_image_read_resumes_after_the_site_server_restarts_using_every_image_permission() {
    let mut site = SiteFixture::start("trace: true").await;
    let image = image_bytes(8 * 1024 * 1024);
    image_bucket_with(&site.process_client().await, "os-1", &image).await;
    let mut n1 = site.node_client("n1").await.expect("connect as n1");
    let mut reader = DirectGetReader::open(&jetstream::new(n1.client.clone()), "os-1").await;
    assert!(reader.read_chunk().await, "read the first chunk");

    // The server goes away between two chunks; the reader asks for the next one while it is down.
    site.server.kill();
    expect_disconnected(&mut n1).await;
    let mut rest = Box::pin(reader.read_to_end());
    assert!((&mut rest).now_or_never().is_none(), "read without a server");
    let auth = site.auth_with(&["n1", "n2"]);
    site.server.start_again(&auth).await;
    let read = rest.await;

    assert!(read == image, "the image read differs from the one put");
    no_violations(&mut n1).await;
    let published = published_by(&site.server.log(), "node-n1");
    let permissions = node_permissions(&site.site, &token("n1"));
    let image_permissions = permissions
        .publish
        .allow
        .iter()
        .filter(|allowed| allowed.contains("OBJ_ef-images"));
    for allowed in image_permissions {
        assert!(
            published.iter().any(|subject| subject_matches(allowed, subject)),
            "{allowed} was never used; n1 published {published:?}"
        );
    }
}

/// The gap a reader with consumers left open is closed: nats-server does not hold a push consumer's deliver subject
/// against its creator's permissions, so a node that could create consumers on `OBJ_ef-images` could have the
/// bucket delivered to any literally-subscribed subject (and into a stream listening there), or leave durable
/// consumers behind. A node now may create no consumer of any kind, nor use the object store's consumer-based
/// reader, nor read the site stream.
#[tokio::test]
async fn a_node_may_create_no_consumer_on_the_image_bucket_nor_read_the_site_stream() {
    let site = SiteFixture::start("").await;
    let process = site.process_client().await;
    let process_js = jetstream::new(process.clone());
    let site_stream = create_site_stream(&process_js, &site.site).await;
    image_bucket_with(&process, "os-1", &image_bytes(1000)).await;
    let target = format!("ef.site.{}.node.n2", site.site);
    let mut listener = process.subscribe(target.clone()).await.expect("subscribe");
    process.flush().await.expect("flush");
    let mut n1 = site.node_client("n1").await.expect("connect as n1");
    let node_js = jetstream::new(n1.client.clone());
    let push_to_target = serde_json::json!({
        "stream_name": IMAGE_STREAM,
        "config": {"deliver_subject": target, "filter_subject": format!("$O.{IMAGE_BUCKET}.C.>")},
    });
    let durable = serde_json::json!({
        "stream_name": IMAGE_STREAM,
        "config": {"durable_name": "d1", "name": "d1", "ack_policy": "explicit"},
    });

    let pushed = node_js.create_consumer_on_stream(
        jetstream::consumer::push::Config {
            deliver_subject: target.clone(),
            filter_subject: format!("$O.{IMAGE_BUCKET}.C.>"),
            ..Default::default()
        },
        IMAGE_STREAM,
    );
    assert!(pushed.await.is_err(), "a push consumer was created");
    expect_violation(&mut n1, &format!("$JS.API.CONSUMER.CREATE.{IMAGE_STREAM}")).await;
    assert!(
        node_js.get_object_store(IMAGE_BUCKET).await.is_err(),
        "the object store opened"
    );
    expect_violation(&mut n1, &format!("$JS.API.STREAM.INFO.{IMAGE_STREAM}")).await;
    let refused = [
        (format!("$JS.API.CONSUMER.CREATE.{IMAGE_STREAM}.d1"), &durable),
        (format!("$JS.API.CONSUMER.DURABLE.CREATE.{IMAGE_STREAM}.d1"), &durable),
        (
            format!("$JS.API.CONSUMER.CREATE.{IMAGE_STREAM}.o1.$O.{IMAGE_BUCKET}.C.x"),
            &push_to_target,
        ),
        (format!("$JS.API.CONSUMER.DELETE.{IMAGE_STREAM}.o1"), &durable),
        (format!("$JS.FC.{IMAGE_STREAM}.o1.x"), &durable),
        (format!("$JS.API.STREAM.INFO.{site_stream}"), &durable),
        (format!("$JS.API.CONSUMER.CREATE.{site_stream}"), &push_to_target),
        (format!("$JS.API.DIRECT.GET.{site_stream}"), &durable),
        (format!("$JS.API.DIRECT.GET.{site_stream}.{target}"), &durable),
        (format!("$JS.API.STREAM.MSG.GET.{site_stream}"), &durable),
    ];
    for (request, body) in &refused {
        let body = serde_json::to_vec(body).expect("json");
        n1.client.publish(request.clone(), body.into()).await.expect("publish");
        expect_violation(&mut n1, request).await;
    }
    // The listener's first message is one the site process sends now: nothing was delivered there before it.
    process
        .publish(target.clone(), "marker".into())
        .await
        .expect("publish the marker");

    let first = tokio::time::timeout(DEADLINE, listener.next())
        .await
        .expect("the marker did not arrive")
        .expect("subscription ended");
    assert_eq!(&first.payload[..], b"marker", "the bucket was delivered to {target}");
    let mut images = process_js.get_stream(IMAGE_STREAM).await.expect("the image bucket");
    assert_eq!(images.info().await.expect("stream info").state.consumer_count, 0);
    let mut site_stream_handle = process_js.get_stream(&site_stream).await.expect("the site stream");
    assert_eq!(
        site_stream_handle
            .info()
            .await
            .expect("stream info")
            .state
            .consumer_count,
        0
    );
}

/// The gap one account left open is closed: nats-server 2.15.1 does not hold a request's reply subject against the
/// requester's permissions, and the site process and JetStream answer on whatever reply subject a request names. A
/// node or the join user naming `ef.site.<x>.…` as the reply subject of each request it may make would have the
/// answer stored by the site stream if the answer were delivered in `SITE` (as it is for the site process's own
/// request at the end). Across the service imports the answers are delivered in `NODES`, where no stream listens.
///
/// "Nothing was stored" is shown by order: every forged request is answered before the same request asked honestly
/// (the responder reports a request after answering it; JetStream answers a client's requests in order), and the
/// marker the site process stores after all of them is the stream's first message.
#[tokio::test]
async fn a_node_removed_from_the_config_is_disconnected_on_reload_and_refused_after() {
    let mut site = SiteFixture::start("").await;
    let process = site.process_client().await;
    let mut agent_requests = respond(&process, &format!("ef.agent.{}.>", site.site)).await;
    let mut n1 = site.node_client("n1").await.expect("connect as n1");
    let mut n2 = site.node_client("n2").await.expect("connect as n2");

    site.server.reload(&site.auth_with(&["n2"])).await;

    expect_disconnected(&mut n1).await;
    let again = site.node_client("n1").await;
    let error = again.err().expect("n1 let in after its removal");
    assert_eq!(error.kind(), ConnectErrorKind::AuthorizationViolation, "{error}");
    let heartbeat = node_subjects(&site.site, &token("n2")).replace('>', "heartbeat");
    n2.client
        .request(heartbeat.clone(), "alive".into())
        .await
        .expect("n2 is still answered");
    assert_eq!(next_request(&mut agent_requests).await.subject, heartbeat);
    while let Ok(event) = n2.events.try_recv() {
        assert!(
            !matches!(event, Event::Disconnected),
            "n2 was disconnected by the reload"
        );
    }
    no_violations(&mut n2).await;
}

fn token(text: &str) -> events::Token {
    events::Token::new(text).expect("token")
}

/// Local applications read the site's copy of the central config key by key, with a node's identity: they bind to
/// the bucket and get one key at a time (a direct get), using exactly the config permissions; they cannot list or
/// watch keys (that takes a consumer) nor write.
#[tokio::test]
async fn a_node_reads_the_config_bucket_key_by_key_and_cannot_list_watch_or_write_it() {
    let site = SiteFixture::start("trace: true").await;
    let process = jetstream::new(site.process_client().await);
    let bucket = process
        .create_key_value(jetstream::kv::Config {
            bucket: fleet_trust::CONFIG_BUCKET.to_owned(),
            history: 1,
            ..Default::default()
        })
        .await
        .expect("config bucket");
    bucket.put("menu/soup", "lentil".into()).await.expect("put");
    let mut n1 = site.node_client("n1").await.expect("connect as n1");

    let kv = jetstream::new(n1.client.clone())
        .get_key_value(fleet_trust::CONFIG_BUCKET)
        .await
        .expect("bind to the bucket");
    assert_eq!(kv.get("menu/soup").await.expect("get").as_deref(), Some(&b"lentil"[..]));
    assert_eq!(kv.get("menu/none").await.expect("get"), None);
    no_violations(&mut n1).await;
    let published = published_by(&site.server.log(), "node-n1");
    for allowed in node_permissions(&site.site, &token("n1"))
        .publish
        .allow
        .iter()
        .filter(|allowed| allowed.contains("KV_ef-config"))
    {
        assert!(
            published.iter().any(|subject| subject_matches(allowed, subject)),
            "{allowed} was never used; n1 published {published:?}"
        );
    }

    let listed = tokio::time::timeout(std::time::Duration::from_secs(5), kv.keys()).await;
    assert!(
        !matches!(listed, Ok(Ok(_))),
        "a node lists no keys (that takes a consumer)"
    );
    assert!(
        kv.put("menu/soup", "pea".into()).await.is_err(),
        "a node writes no config"
    );
    assert_eq!(
        bucket.get("menu/soup").await.expect("get").as_deref(),
        Some(&b"lentil"[..]),
        "the value is unchanged"
    );
}
