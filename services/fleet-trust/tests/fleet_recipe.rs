//! The fleet recipe on real servers (DESIGN §9 as built): an operator-mode hub with TLS on its client and
//! leafnodes ports, configured from the trust root, and sites whose own plain nats-servers leaf into their own
//! account at the hub with the credentials of their bundle.
//!
//! Each site's server sources the HUB account's `EF_INTENT` (its own and the fleet-wide intents only) and image
//! bucket directly across the accounts; the hub process, through its user inside the site's account, copies the
//! site's events and answers its beacon. The site can do nothing else at the hub, and another site cannot take its
//! intents. Operators: `fleet_recipe_operators.rs`; revocation and rotation: `fleet_recipe_revocation.rs`.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::{ConnectErrorKind, RequestErrorKind};
use events::subject::{site_stream, INTENT_STREAM};
use events::Token;
use fleet_trust::beacon_subject;
use futures::StreamExt;
use support::site_streams::{hub_copy_of_site_events, site_events, site_image_replica, site_intents};
use support::{assert_leaf_carries_only, eventually, first_info, leaf_accounts, Fleet, NatsChild, SiteServer};
use tokio::io::AsyncReadExt;

/// The image the hub puts into its bucket: several chunks of 128 KiB.
const IMAGE_NAME: &str = "edge-os-1";
const IMAGE_BYTES: usize = 4_000_000;
/// Intents published at the hub: site `a`'s, site `b`'s, fleet-wide.
const INTENTS: [(&str, usize); 3] = [
    ("ef.intent.a.node.n", 4),
    ("ef.intent.b.node.n", 3),
    ("ef.intent.all.profile.p", 2),
];
/// Events each site writes into its own stream, and their size: together enough for JetStream flow control on the
/// hub's copy.
const SITE_EVENTS: u64 = 8;
const SITE_EVENT_BYTES: usize = 512 * 1024;

#[tokio::test]
async fn each_site_sources_its_own_intents_and_the_images_and_the_hub_copies_its_events() {
    let fleet = Fleet::start().await;
    let hub_js = jetstream::new(fleet.hub_process().await);
    publish_intents(&hub_js).await;
    let image: Vec<u8> = (0..IMAGE_BYTES).map(|i| (i % 251) as u8).collect();
    let bucket = hub_js
        .create_object_store(jetstream::object_store::Config {
            bucket: "ef-images".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    bucket.put(IMAGE_NAME, &mut image.as_slice()).await.unwrap();
    let site_a = fleet.start_site("a").await;
    let site_b = fleet.start_site("b").await;
    for site in [&site_a, &site_b] {
        set_up_site_streams(site).await;
    }

    // (a) Each site's EF_INTENT holds its own and the fleet-wide intents, nothing of the other site.
    assert_eq!(
        intent_subject_counts(&site_a).await,
        HashMap::from([("ef.intent.a".to_owned(), 4), ("ef.intent.all".to_owned(), 2)])
    );
    assert_eq!(
        intent_subject_counts(&site_b).await,
        HashMap::from([("ef.intent.b".to_owned(), 3), ("ef.intent.all".to_owned(), 2)])
    );
    // (b) The image put at the hub is read from the site's replica with the object-store API.
    assert_eq!(read_replicated_image(&site_a).await, image);
    // (c) The hub process copies the site's events into the site's account at the hub.
    for site in [&site_a, &site_b] {
        assert_hub_copies_site_events(&fleet, &site.site).await;
    }
    // (h) The site's beacon request is answered by the hub process through its user in the site's account.
    assert_beacon_is_answered(&fleet, &site_a).await;
    // (d) The site can do nothing else at the hub, and site b cannot take a's intents.
    assert_site_is_confined(&fleet, &site_a).await;
    assert_other_site_cannot_take_intents(&hub_js, &site_b).await;
}

async fn publish_intents(hub_js: &jetstream::Context) {
    hub_js
        .create_stream(stream::Config {
            name: INTENT_STREAM.to_owned(),
            subjects: vec!["ef.intent.>".to_owned()],
            ..Default::default()
        })
        .await
        .unwrap();
    for (subject, count) in INTENTS {
        for i in 0..count {
            hub_js
                .publish(format!("{subject}{i}"), "intent".into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    }
}

/// At the site: its `EF_INTENT`, its image replica and its own event stream with [`SITE_EVENTS`] events.
async fn set_up_site_streams(site: &SiteServer) {
    let js = jetstream::new(site.client().await);
    for config in [
        site_intents(&site.site),
        site_image_replica(&site.site),
        site_events(&site.site),
    ] {
        js.create_stream(config).await.unwrap();
    }
    for i in 0..SITE_EVENTS {
        let subject = format!("ef.site.{}.node.n{i}", site.site);
        js.publish(subject, vec![b'e'; SITE_EVENT_BYTES].into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
}

/// Messages per `ef.intent.<site|all>` in the site's `EF_INTENT`, once it holds every intent it should.
async fn intent_subject_counts(site: &SiteServer) -> HashMap<String, usize> {
    let js = jetstream::new(site.client().await);
    let expected = INTENTS
        .iter()
        .filter(|(subject, _)| subject.contains(&format!(".{}.", site.site)) || subject.contains(".all."))
        .map(|(_, count)| *count as u64)
        .sum::<u64>();
    eventually(&format!("site {}'s EF_INTENT to hold {expected}", site.site), || {
        let js = js.clone();
        async move {
            let mut stream = js.get_stream(INTENT_STREAM).await.ok()?;
            let info = stream.info().await.ok()?;
            (info.state.messages == expected).then_some(())
        }
    })
    .await;
    let stream = js.get_stream(INTENT_STREAM).await.unwrap();
    let mut subjects = stream.info_with_subjects("ef.intent.>").await.unwrap();
    let mut counts = HashMap::new();
    while let Some((subject, count)) = subjects.next().await.transpose().unwrap() {
        let scope = subject.splitn(4, '.').take(3).collect::<Vec<_>>().join(".");
        *counts.entry(scope).or_insert(0) += count;
    }
    counts
}

/// The image as the site's object-store replica returns it, once it has arrived.
async fn read_replicated_image(site: &SiteServer) -> Vec<u8> {
    let js = jetstream::new(site.client().await);
    eventually("the image to arrive at the site", || {
        let js = js.clone();
        async move {
            let store = js.get_object_store("ef-images").await.ok()?;
            let mut object = store.get(IMAGE_NAME).await.ok()?;
            let mut bytes = Vec::new();
            object.read_to_end(&mut bytes).await.ok()?;
            (bytes.len() == IMAGE_BYTES).then_some(bytes)
        }
    })
    .await
}

/// The hub process's user in the site's account reads the site's stream in the site's domain and creates the
/// hub's copy of it, which receives the site's events over the leaf link.
async fn assert_hub_copies_site_events(fleet: &Fleet, site: &Token) {
    let client = fleet.hub_in_site(site).await;
    let at_site = jetstream::with_domain(client.clone(), site.as_str());
    let origin = at_site
        .get_stream(site_stream(site))
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .clone();
    assert_eq!(origin.state.messages, SITE_EVENTS);
    let js = jetstream::new(client);
    js.create_stream(hub_copy_of_site_events(site)).await.unwrap();
    eventually(
        &format!("the hub's copy of {} to hold every event", site_stream(site)),
        || {
            let js = js.clone();
            async move {
                let info = js.get_stream(site_stream(site)).await.ok()?.info().await.ok()?.clone();
                (info.state.messages == SITE_EVENTS).then_some(())
            }
        },
    )
    .await;
}

async fn assert_beacon_is_answered(fleet: &Fleet, site: &SiteServer) {
    let hub = fleet.hub_in_site(&site.site).await;
    let mut beacons = hub.subscribe(beacon_subject(&site.site)).await.unwrap();
    hub.flush().await.unwrap();
    tokio::spawn(async move {
        while let Some(beacon) = beacons.next().await {
            if let Some(reply) = beacon.reply {
                hub.publish(reply, "hub saw you".into()).await.unwrap();
            }
        }
    });
    let client = site.client().await;
    let answer = eventually("the beacon to be answered", || {
        let client = client.clone();
        let subject = beacon_subject(&site.site);
        async move { client.request(subject, "beacon".into()).await.ok() }
    })
    .await;
    assert_eq!(answer.payload, "hub saw you");
}

/// A site publishes only its own subjects to the hub, receives only what is for it, and cannot reach the hub's
/// JetStream API.
async fn assert_site_is_confined(fleet: &Fleet, site: &SiteServer) {
    let site_client = site.client().await;
    let hub_in_site = fleet.hub_in_site(&site.site).await;
    let own = format!("ef.site.{}", site.site);
    let forged_intent = format!("ef.intent.{}.node.forged", site.site);
    assert_leaf_carries_only(&site_client, &hub_in_site, &own, &forged_intent).await;
    assert_leaf_carries_only(&hub_in_site, &site_client, "_INBOX.probe", &forged_intent).await;

    let deleted = site_client
        .request(
            format!("$JS.hub.API.STREAM.DELETE.{}", site_stream(&site.site)),
            "".into(),
        )
        .await;
    assert_no_answer(deleted, "deleting the hub's copy through $JS.hub.API");
    let copy = jetstream::new(hub_in_site).get_stream(site_stream(&site.site)).await;
    assert!(copy.is_ok(), "the hub's copy is still there");
}

/// Site `thief` asks the HUB account for site `a`'s intents, delivered to itself: nothing is created.
async fn assert_other_site_cannot_take_intents(hub_js: &jetstream::Context, thief: &SiteServer) {
    let stolen = thief
        .client()
        .await
        .request(
            "$JS.fleet.API.CONSUMER.CREATE.EF_INTENT.steal.ef.intent.a.>",
            format!(
                r#"{{"stream_name":"EF_INTENT","config":{{"name":"steal","filter_subject":"ef.intent.a.>","deliver_subject":"deliver.{}.steal"}}}}"#,
                thief.site
            )
            .into(),
        )
        .await;
    assert_no_answer(stolen, "creating a consumer of another site's intents");
    let mut consumers = hub_js.get_stream(INTENT_STREAM).await.unwrap().consumer_names();
    while let Some(name) = consumers.next().await.transpose().unwrap() {
        assert_ne!(name, "steal", "no consumer was created for the thief");
    }
}

/// A request that must reach nobody: no responders, or no answer in time.
fn assert_no_answer(result: Result<async_nats::Message, async_nats::RequestError>, what: &str) {
    match result {
        Ok(answer) => panic!("{what} was answered: {:?}", answer.payload),
        Err(error) => assert!(
            matches!(
                error.kind(),
                RequestErrorKind::NoResponders | RequestErrorKind::TimedOut
            ),
            "{what}: {error}"
        ),
    }
}

#[tokio::test]
async fn the_hub_ports_require_tls_and_credentials() {
    let fleet = Fleet::start().await;
    let hub = &fleet.hub;

    for port in [hub.client_port, hub.leaf_port] {
        let info = first_info(port);
        assert_eq!(info["tls_required"], true, "port {port}: {info}");
        assert_eq!(info["auth_required"], true, "port {port}: {info}");
    }
    let anonymous = async_nats::ConnectOptions::new()
        .add_root_certificates(fleet.root.layout().ca_bundle())
        .require_tls(true)
        .connection_timeout(Duration::from_secs(2))
        .connect(&hub.client_url)
        .await
        .unwrap_err();
    assert_eq!(
        anonymous.kind(),
        ConnectErrorKind::AuthorizationViolation,
        "{anonymous}"
    );

    // A leaf that trusts the hub but brings no credentials is refused, again and again.
    let remote = format!(
        "leafnodes {{ remotes: [ {{ url: {:?}, tls: {{ ca_file: {:?} }} }} ] }}\n",
        hub.leaf_url.as_deref().unwrap(),
        fleet.root.layout().ca_bundle().display().to_string()
    );
    let [port] = nats_process::free_ports::<1>();
    let anonymous_leaf = NatsChild::spawn(
        fleet.dir.path(),
        "anonymous-leaf",
        &format!("server_name: anonymous-leaf\nlisten: \"127.0.0.1:{port}\"\n{remote}"),
    );
    eventually("the anonymous leaf to be refused twice", || {
        let refusals = anonymous_leaf.log().matches("Authorization Violation").count();
        async move { (refusals >= 2).then_some(()) }
    })
    .await;
    assert!(leaf_accounts(&fleet.system).await.is_empty(), "no leaf is connected");
}
