//! A site's nats-server leafs into its own account at the hub over TLS from the fleet CA, with the narrowed leaf
//! credential (DESIGN §9): the site's own subjects reach the hub, other subjects it publishes do not; the hub's
//! JetStream API requests for the site reach it, other subjects the hub publishes do not.

mod support;

use std::time::{Duration, Instant};

use events::Token;
use fleet_trust::{push_account_jwt, LeafRemote, RemoteTls, ServerNames, ServerTls, TrustRoot};
use futures::{FutureExt, StreamExt};
use support::{connect, eventually, NatsChild, OperatorHub};

/// The site's local account that the leaf link binds to.
const SITE_LOCAL_ACCOUNT: &str = "SITE";
/// How long one link probe waits to be heard before the next is sent.
const PROBE_INTERVAL: Duration = Duration::from_millis(200);

#[tokio::test]
async fn a_site_leaf_carries_only_what_its_credential_allows() {
    let dir = tempfile::tempdir().unwrap();
    let root = TrustRoot::open_or_create(dir.path().join("trust")).unwrap();
    let tls = ServerTls::new(root.issue_hub_server_cert(&ServerNames::localhost()).unwrap());
    let hub = OperatorHub::start(&root, dir.path(), None, Some(Some(&tls))).await;
    let site = Token::new("a").unwrap();
    let system = connect(&hub.client_url, &root.layout().system_creds(), None)
        .await
        .unwrap();
    push_account_jwt(&system, &root.issue_site_account(&site).unwrap())
        .await
        .unwrap();
    let leaf_creds = dir.path().join("site-a-leaf.creds");
    root.issue_site_leaf_user(&site).unwrap().write(&leaf_creds).unwrap();
    let hub_in_site_creds = dir.path().join("hub-in-a.creds");
    root.issue_hub_in_site_user(&site)
        .unwrap()
        .write(&hub_in_site_creds)
        .unwrap();
    let remote = LeafRemote {
        url: hub.leaf_url.clone().unwrap(),
        credentials: leaf_creds,
        local_account: Some(SITE_LOCAL_ACCOUNT.to_owned()),
        tls: Some(RemoteTls {
            ca: root.fleet_ca().cert_path().to_owned(),
        }),
    };
    let [site_port] = nats_process::free_ports::<1>();
    let _site_server = NatsChild::spawn(
        dir.path(),
        "site-a",
        &format!(
            "server_name: site-a\nlisten: \"127.0.0.1:{site_port}\"\n\
             accounts {{ {SITE_LOCAL_ACCOUNT}: {{ users: [ {{ user: ctl, password: ctl }} ] }} }}\n{}",
            LeafRemote::render_leafnodes(&[remote])
        ),
    );
    let site_client = eventually("the site server to accept clients", || async move {
        async_nats::ConnectOptions::with_user_and_password("ctl".into(), "ctl".into())
            .connect(format!("nats://127.0.0.1:{site_port}"))
            .await
            .ok()
    })
    .await;
    let hub_client = connect(&hub.client_url, &hub_in_site_creds, None).await.unwrap();

    // Site → hub: the site's own subjects arrive (once the link is up), an intent subject never does.
    let mut at_hub = hub_client.subscribe(">").await.unwrap();
    hub_client.flush().await.unwrap();
    probe_until_heard(&site_client, "ef.site.a.node.n1", &mut at_hub).await;
    site_client
        .publish("ef.intent.a.node.n1", "forged".into())
        .await
        .unwrap();
    site_client
        .publish("ef.site.a.node.marker", "after".into())
        .await
        .unwrap();
    let arrived = next_subject_except_probes(&mut at_hub).await;
    assert_eq!(
        arrived, "ef.site.a.node.marker",
        "the forged intent must not reach the hub"
    );

    // Hub → site: requests to the site's JetStream API arrive, other subjects never do.
    let mut site_api = site_client.subscribe("$JS.a.API.>").await.unwrap();
    let mut site_intents = site_client.subscribe("ef.intent.>").await.unwrap();
    site_client.flush().await.unwrap();
    probe_until_heard(&hub_client, "$JS.a.API.INFO", &mut site_api).await;
    hub_client
        .publish("ef.intent.a.node.n2", "pushed".into())
        .await
        .unwrap();
    hub_client
        .publish("$JS.a.API.STREAM.INFO.marker", "after".into())
        .await
        .unwrap();
    let marker = loop {
        let message = site_api.next().await.unwrap();
        if message.subject.as_str() != "$JS.a.API.INFO" {
            break message;
        }
    };
    assert_eq!(marker.subject.as_str(), "$JS.a.API.STREAM.INFO.marker");
    assert!(
        site_intents.next().now_or_never().is_none(),
        "an intent published in the site's account at the hub must not cross the leaf link"
    );
}

/// Publishes `subject` from `publisher` until `listener` (across the leaf link) hears it: the link is up and the
/// interest has propagated. Panics after the deadline.
async fn probe_until_heard(publisher: &async_nats::Client, subject: &str, listener: &mut async_nats::Subscriber) {
    let started = Instant::now();
    loop {
        publisher.publish(subject.to_owned(), "probe".into()).await.unwrap();
        if let Ok(Some(message)) = tokio::time::timeout(PROBE_INTERVAL, listener.next()).await {
            if message.subject.as_str() == subject {
                return;
            }
        }
        assert!(
            started.elapsed() < support::DEADLINE,
            "{subject} did not cross the leaf link within {:?}",
            support::DEADLINE
        );
    }
}

/// The next subject on `subscriber` that is not one of the link probes.
async fn next_subject_except_probes(subscriber: &mut async_nats::Subscriber) -> String {
    loop {
        let message = tokio::time::timeout(support::DEADLINE, subscriber.next())
            .await
            .expect("a message within the deadline")
            .expect("subscription open");
        if message.subject.as_str() != "ef.site.a.node.n1" {
            return message.subject.to_string();
        }
    }
}
