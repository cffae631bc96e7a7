//! A site's nats-server leafs into its own account at the hub over TLS from the fleet CA, with the narrowed leaf
//! credential (DESIGN §9): the site's own subjects reach the hub, other subjects it publishes do not; the hub's
//! JetStream API requests for the site reach it, other subjects the hub publishes do not.

mod support;

use std::time::{Duration, Instant};

use events::Token;
use fleet_trust::{push_account_jwt, LeafRemote, RemoteTls};
use futures::{FutureExt, StreamExt};
use support::{eventually, hub_in_temp_dir, write_creds, HubTls, NatsChild};

/// The site's local account that the leaf link binds to.
const SITE_LOCAL_ACCOUNT: &str = "SITE";
/// How long one link probe waits to be heard before the next is sent.
const PROBE_INTERVAL: Duration = Duration::from_millis(200);

#[tokio::test]
async fn a_site_leaf_carries_only_what_its_credential_allows() {
    let (dir, root, hub) = hub_in_temp_dir(HubTls::LeafPort).await;
    let site = Token::new("a").unwrap();
    push_account_jwt(&hub.system_client().await, &root.issue_site_account(&site).unwrap())
        .await
        .unwrap();
    let leaf_creds = write_creds(dir.path(), "site-a-leaf", &root.issue_site_leaf_user(&site).unwrap());
    let hub_in_site_creds = write_creds(dir.path(), "hub-in-a", &root.issue_hub_in_site_user(&site).unwrap());
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
    let hub_client = hub.connect(&hub_in_site_creds).await.unwrap();

    // Site → hub: the site's own subjects arrive (once the link is up), an intent subject never does.
    assert_leaf_carries_only(&site_client, &hub_client, "ef.site.a.node", "ef.intent.a.node.n1").await;
    // Hub → site: requests to the site's JetStream API arrive, other subjects never do.
    assert_leaf_carries_only(&hub_client, &site_client, "$JS.a.API", "ef.intent.a.node.n2").await;
}

/// Checks one direction of the leaf link, from `publisher` to `listener`: subjects under `allowed.` cross (probed
/// until the link is up and the interest has propagated), `forbidden` published before a marker under `allowed.`
/// does not.
async fn assert_leaf_carries_only(
    publisher: &async_nats::Client,
    listener: &async_nats::Client,
    allowed: &str,
    forbidden: &str,
) {
    let mut heard = listener.subscribe(format!("{allowed}.>")).await.unwrap();
    let mut heard_forbidden = listener.subscribe(forbidden.to_owned()).await.unwrap();
    listener.flush().await.unwrap();
    let probe = format!("{allowed}.probe");
    probe_until_heard(publisher, &probe, &mut heard).await;

    let marker = format!("{allowed}.marker");
    for subject in [forbidden, &marker] {
        publisher.publish(subject.to_owned(), "after".into()).await.unwrap();
    }

    assert_eq!(next_subject_except(&probe, &mut heard).await, marker);
    assert!(
        heard_forbidden.next().now_or_never().is_none(),
        "{forbidden} must not cross the leaf link"
    );
}

/// Publishes `subject` from `publisher` until `listener` (across the leaf link) hears it. Panics after the deadline.
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

/// The next subject on `subscriber` other than `probe`.
async fn next_subject_except(probe: &str, subscriber: &mut async_nats::Subscriber) -> String {
    loop {
        let message = tokio::time::timeout(support::DEADLINE, subscriber.next())
            .await
            .expect("a message within the deadline")
            .expect("subscription open");
        if message.subject.as_str() != probe {
            return message.subject.to_string();
        }
    }
}
