//! The site server's account boundary: nodes and joiners live in `NODES`, the site's streams in `SITE`, and only
//! the services `SITE` exports cross between them — so no answer a node or the join user asks for can land in a
//! site stream, whatever reply subject it names, and every request reaches the site process exactly once.
//!
//! Real nats-server, plain TCP, free port, own temp dir.

mod site_auth_support;

use async_nats::jetstream;
use async_nats::RequestErrorKind;
use fleet_trust::{join_subject, IMAGE_BUCKET};
use site_auth_support::{
    ask_honestly, ask_with_reply, asks_of_n1, asks_of_the_join_user, create_site_stream, image_bucket_with,
    image_bytes, next_request, no_violations, requests_before_marker, respond, store_marker, stored_subjects,
    wait_until_stored, DirectGetReader, SiteFixture, JOIN_PASSWORD,
};

/// The stream of the image bucket.
const IMAGE_STREAM: &str = "OBJ_ef-images";

/// How the reply subject of a request that crossed a service import starts, as the site process sees it in `SITE`:
/// the server's own, never the requester's inbox (the answer is delivered there, in `NODES`).
const SERVICE_REPLY_PREFIX: &str = "_R_.";

#[tokio::test]
async fn a_request_reaches_the_site_process_once_under_its_own_subject_and_is_answered() {
    let site = SiteFixture::start("").await;
    let process = site.process_client().await;
    let mut agent_requests = respond(&process, &format!("ef.agent.{}.>", site.site)).await;
    let n1 = site.node_client("n1").await.expect("connect as n1");
    let joining = site.join_client(JOIN_PASSWORD).await.expect("connect as the join user");
    let heartbeat = format!("ef.agent.{}.n1.heartbeat", site.site);
    let marker = format!("ef.agent.{}.marker", site.site);
    let asks = [
        (&n1, heartbeat.clone(), "first"),
        (&n1, heartbeat.clone(), "second"),
        (&joining, join_subject(&site.site), "hello"),
    ];

    for (asker, subject, body) in &asks {
        let answer = asker
            .client
            .request(subject.clone(), body.to_string().into())
            .await
            .unwrap_or_else(|e| panic!("{subject} {body}: {e}"));
        assert_eq!(&answer.payload[..], b"welcome");
    }
    // Published by the site process after every answer reached its requester: a second copy arrives before it.
    let received = requests_before_marker(&process, &mut agent_requests, &marker).await;

    let seen: Vec<(&str, &[u8])> = received
        .iter()
        .map(|request| (request.subject.as_str(), &request.payload[..]))
        .collect();
    let join = join_subject(&site.site);
    let expected: Vec<(&str, &[u8])> = vec![(&heartbeat, b"first"), (&heartbeat, b"second"), (&join, b"hello")];
    assert_eq!(seen, expected);
    for request in &received {
        let reply = request.reply.as_deref().unwrap_or_default();
        assert!(reply.starts_with(SERVICE_REPLY_PREFIX), "{reply}");
    }
}

#[tokio::test]
async fn no_answer_lands_in_the_site_stream_whatever_reply_subject_a_node_or_the_join_user_names() {
    let site = SiteFixture::start("").await;
    let process = site.process_client().await;
    let process_js = jetstream::new(process.clone());
    let site_stream = create_site_stream(&process_js, &site.site).await;
    image_bucket_with(&process, "os-1", &image_bytes(1000)).await;
    let mut agent_requests = respond(&process, &format!("ef.agent.{}.>", site.site)).await;
    let mut n1 = site.node_client("n1").await.expect("connect as n1");
    let mut joining = site.join_client(JOIN_PASSWORD).await.expect("connect as the join user");
    let stream_subject = |node: &str| format!("ef.site.{}.node.{node}", site.site);
    let (node_asks, join_asks) = (asks_of_n1(&site.site), asks_of_the_join_user(&site.site));

    ask_with_reply(&n1.client, &node_asks, &stream_subject("n2")).await;
    ask_with_reply(&joining.client, &join_asks, &stream_subject("n3")).await;
    ask_honestly(&n1.client, &node_asks).await;
    ask_honestly(&joining.client, &join_asks).await;
    let mut answered = Vec::new();
    for _forged_and_honest in 0..4 {
        answered.push(next_request(&mut agent_requests).await.subject);
    }
    let marker = store_marker(&process_js, &site.site).await;

    answered.sort();
    let (join, heartbeat) = (join_subject(&site.site), format!("ef.agent.{}.n1.heartbeat", site.site));
    assert_eq!(
        answered,
        [join.clone(), join, heartbeat.clone(), heartbeat],
        "each once"
    );
    let stored = stored_subjects(&process_js, &site_stream).await;
    assert_eq!(marker, 1, "stored: {stored:?}");
    no_violations(&mut n1).await;
    no_violations(&mut joining).await;
    // The same request from inside `SITE` is stored: the site stream would have kept any answer delivered there.
    ask_with_reply(&process, &node_asks[..1], &stream_subject("p")).await;
    let stored = wait_until_stored(&process_js, &site_stream, &stream_subject("p")).await;
    assert_eq!(&stored.payload[..], &image_bytes(1000)[..]);
}

/// An answer delivered in `NODES` under a subject that is itself a service (another node's request subject) does not
/// cross back into `SITE`: a node cannot have the site process's answer, an image chunk or the account info arrive
/// at the site process as a request of another node.
#[tokio::test]
async fn an_answer_sent_to_another_nodes_request_subject_never_reaches_the_site_process() {
    let site = SiteFixture::start("").await;
    let process = site.process_client().await;
    image_bucket_with(&process, "os-1", &image_bytes(1000)).await;
    let mut agent_requests = respond(&process, &format!("ef.agent.{}.>", site.site)).await;
    let mut n1 = site.node_client("n1").await.expect("connect as n1");
    let mut joining = site.join_client(JOIN_PASSWORD).await.expect("connect as the join user");
    let n2_heartbeat = format!("ef.agent.{}.n2.heartbeat", site.site);
    let marker = format!("ef.agent.{}.marker", site.site);
    let (node_asks, join_asks) = (asks_of_n1(&site.site), asks_of_the_join_user(&site.site));

    ask_with_reply(&n1.client, &node_asks, &n2_heartbeat).await;
    ask_with_reply(&joining.client, &join_asks, &n2_heartbeat).await;
    ask_honestly(&n1.client, &node_asks).await;
    ask_honestly(&joining.client, &join_asks).await;
    // Published by the site process after it answered everything: an answer that crossed back arrives before it.
    let mut received: Vec<String> = requests_before_marker(&process, &mut agent_requests, &marker)
        .await
        .into_iter()
        .map(|r| r.subject)
        .collect();

    received.sort();
    let (join, n1_heartbeat) = (join_subject(&site.site), format!("ef.agent.{}.n1.heartbeat", site.site));
    let expected = [join.clone(), join, n1_heartbeat.clone(), n1_heartbeat];
    assert_eq!(received, expected, "nothing on {n2_heartbeat}");
    no_violations(&mut n1).await;
    no_violations(&mut joining).await;
}

/// The account boundary alone, without the users' permissions: even a user of `NODES` with no permission rules (the
/// rendering never makes one) reaches `SITE` only through the four services. It reads account info and an image;
/// every other JetStream request has no responder, a publish to the site stream's subjects is stored nowhere.
#[tokio::test]
async fn even_an_unrestricted_user_of_nodes_reaches_site_only_through_its_services() {
    let site = SiteFixture::start_with_nodes_probe().await;
    let process = site.process_client().await;
    let process_js = jetstream::new(process.clone());
    let site_stream = create_site_stream(&process_js, &site.site).await;
    let image = image_bytes(1000);
    image_bucket_with(&process, "os-1", &image).await;
    let probe = site.probe_client().await.expect("connect as the probe");
    let probe_js = jetstream::new(probe.client.clone());
    let site_event = format!("ef.site.{}.node.n1", site.site);

    let account = probe_js.query_account().await.expect("account info");
    let read = DirectGetReader::open(&probe_js, "os-1").await.read_to_end().await;
    let unanswered = [
        format!("$JS.API.STREAM.INFO.{site_stream}"),
        format!("$JS.API.STREAM.MSG.GET.{site_stream}"),
        format!("$JS.API.DIRECT.GET.{site_stream}"),
        format!("$JS.API.STREAM.PURGE.{site_stream}"),
        format!("$JS.API.STREAM.DELETE.{IMAGE_STREAM}"),
        format!("$JS.API.CONSUMER.CREATE.{IMAGE_STREAM}"),
        format!("$JS.API.DIRECT.GET.{IMAGE_STREAM}.$O.{IMAGE_BUCKET}.C.x"),
        "$JS.API.STREAM.CREATE.X".to_owned(),
        "$JS.API.STREAM.NAMES".to_owned(),
        format!("$JS.{}.API.INFO", site.site),
        site_event.clone(),
    ];
    for subject in &unanswered {
        let error = probe
            .client
            .request(subject.clone(), "{}".into())
            .await
            .expect_err(subject);
        assert_eq!(error.kind(), RequestErrorKind::NoResponders, "{subject}: {error}");
    }
    let published = probe_js.publish(site_event.clone(), "forged".into()).await;
    let acknowledged = match published {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    };
    probe
        .client
        .publish(site_event, "forged".into())
        .await
        .expect("publish");
    probe.client.flush().await.expect("flush");

    assert_eq!(account.domain.as_deref(), Some(site.site.as_str()));
    assert!(read == image, "the image read differs from the one put");
    assert!(
        !acknowledged,
        "a JetStream publish into the site stream was acknowledged"
    );
    let marker = store_marker(&process_js, &site.site).await;
    assert_eq!(
        marker,
        1,
        "stored: {:?}",
        stored_subjects(&process_js, &site_stream).await
    );
}
