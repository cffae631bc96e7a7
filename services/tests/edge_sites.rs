//! Edge sites end to end: real hub, site and agent processes; links cut and healed through proxies; hub and
//! site nats-servers killed with -9. Every test ends with hub and site replaying to the same state.

mod common;

use actors::node::NodeLifecycle;
use common::hub_intents::HubIntents;
use common::{agent, converged, eventually, node_state, replayed, Hub, Site};
use events::node::NodeRole;
use events::AggregateRef;
use std::time::Duration;

const CONVERGE: Duration = Duration::from_secs(60);

async fn all_ready_at_site(site: &Site, nodes: &[&str]) {
    for node in nodes {
        eventually(
            &format!("{}/{node} ready at the site", site.id),
            Duration::from_secs(60),
            || async {
                let state = node_state(&site.url(), &site.id, node).await?;
                (state.lifecycle() == NodeLifecycle::Ready).then_some(())
            },
        )
        .await;
    }
}

#[actix_rt::test]
async fn one_hub_two_sites_converge_under_partitions_and_kills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = Hub::start(dir.path()).await;
    let s1 = Site::start(dir.path(), &hub, "s1", &[]).await;
    let s2 = Site::start(dir.path(), &hub, "s2", &[]).await;
    let nodes = ["n1", "n2", "n3", "n4"];

    // Cut s1 before its nodes exist: they register, heartbeat and form the cluster with no hub.
    s1.link.cut();
    let _agents: Vec<_> = nodes
        .iter()
        .flat_map(|n| [agent(dir.path(), &s1, n), agent(dir.path(), &s2, n)])
        .collect();
    all_ready_at_site(&s1, &nodes).await;
    all_ready_at_site(&s2, &nodes).await;
    // Intents written at the hub during the cut.
    let intents = HubIntents::connect(&hub.url()).await;
    intents.label_site(&s1.id, "region", "north").await;

    s1.link.heal();
    let (catch_up, state) = converged(&hub, &s1, CONVERGE).await;
    eprintln!("s1 converged {catch_up:?} after the heal");
    converged(&hub, &s2, CONVERGE).await;
    let Some(actors::AnyAggregate::Site(site_state)) = state.get(&AggregateRef::site(&s1.id)) else {
        panic!("s1's site aggregate replayed")
    };
    assert_eq!(
        site_state.spec.labels.get("region").map(String::as_str),
        Some("north"),
        "the cut-time intent arrived"
    );

    // Kill faults: hub kill -9 and restart while s2 is cut and taking intents; s1's nats-server kill -9.
    s2.link.cut();
    hub.kill9_and_restart(dir.path()).await;
    let intents = HubIntents::connect(&hub.url()).await;
    intents.label_site(&s2.id, "region", "south").await;
    s1.kill9_nats().await;
    s2.link.heal();
    for site in [&s1, &s2] {
        let (took, state) = converged(&hub, site, CONVERGE).await;
        eprintln!("{} converged {took:?} after kills and heal", site.id);
        let nodes_ready = state
            .values()
            .filter(|s| matches!(s, actors::AnyAggregate::Node(n) if n.lifecycle() == NodeLifecycle::Ready))
            .count();
        assert_eq!(
            nodes_ready,
            nodes.len(),
            "{}: every node still ready after the faults",
            site.id
        );
    }
    let s2_state = replayed(&s2.url(), &s2.id).await;
    let Some(actors::AnyAggregate::Site(s2_site)) = s2_state.get(&AggregateRef::site(&s2.id)) else {
        panic!("s2 site")
    };
    assert_eq!(s2_site.spec.labels.get("region").map(String::as_str), Some("south"));

    // No lost events: the hub holds exactly the site's events.
    for site in [&s1, &s2] {
        let stream = events::subject::site_stream(&site.id);
        let count = |url: String| {
            let stream = stream.clone();
            async move {
                let js = async_nats::jetstream::new(common::connect(&url).await);
                js.get_stream(&stream)
                    .await
                    .expect("stream")
                    .info()
                    .await
                    .expect("info")
                    .state
                    .messages
            }
        };
        assert_eq!(
            count(hub.url()).await,
            count(site.url()).await,
            "{}: hub copy == site stream",
            site.id
        );
    }
}

#[actix_rt::test]
async fn an_assignment_made_during_a_cut_is_carried_out_after_the_heal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "store", &[]).await;
    let nodes = ["n1", "n2", "n3", "n4"];
    let _agents: Vec<_> = nodes.iter().map(|n| agent(dir.path(), &site, n)).collect();
    all_ready_at_site(&site, &nodes).await;
    converged(&hub, &site, CONVERGE).await;

    site.link.cut();
    let intents = HubIntents::connect(&hub.url()).await;
    intents.create_cluster(&site.id, "lab").await;
    intents.assign(&site.id, "n4", "lab", NodeRole::ControlPlane).await;
    let at_site = node_state(&site.url(), &site.id, "n4").await.expect("n4 at the site");
    assert_eq!(
        at_site.spec.generation, 0,
        "the site cannot have the intent during the cut"
    );

    site.link.heal();
    eventually("n4 moved to lab and ready", Duration::from_secs(60), || async {
        let n4 = node_state(&site.url(), &site.id, "n4").await?;
        let member = n4.status.membership.as_ref()?;
        (member.cluster.as_str() == "lab" && n4.lifecycle() == NodeLifecycle::Ready && !n4.drifting()).then_some(())
    })
    .await;
    let (_, state) = converged(&hub, &site, CONVERGE).await;
    let main = AggregateRef::cluster(&site.id, &testkit::token("main"));
    let Some(actors::AnyAggregate::Cluster(main)) = state.get(&main) else {
        panic!("cluster main")
    };
    assert!(!main.status.members.contains_key(&testkit::token("n4")), "n4 left main");
}

#[actix_rt::test]
async fn a_retried_site_event_is_stored_once_on_both_sides() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "dup", &[]).await;
    let _agent = agent(dir.path(), &site, "n1");
    all_ready_at_site(&site, &["n1"]).await;
    site.link.cut();

    // Deliver the same event twice at the site, as a writer retrying after a lost ack would.
    let js = async_nats::jetstream::new(common::connect(&site.url()).await);
    let node = AggregateRef::node(&site.id, &testkit::token("n1"));
    let envelope = events::Envelope {
        id: events::EventId::generate(1),
        aggregate: node.clone(),
        origin: events::Origin::Site(site.id.clone()),
        hlc: events::Hlc {
            physical_ms: actors::process_clock::system_wall_ms(),
            logical: 0,
        },
        by: Some("retrying-writer".into()),
        payload: events::node::NodeEvent::RolePromoted {
            role: NodeRole::ControlPlane,
        }
        .into(),
    };
    let subject = events::subject::subject(events::Writer::Site, &node).expect("site subject");
    for _ in 0..2 {
        let publish = async_nats::jetstream::message::PublishMessage::build()
            .payload(events::encode(&envelope).into())
            .message_id(envelope.msg_id());
        js.send_publish(subject.clone(), publish)
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    site.link.heal();
    converged(&hub, &site, CONVERGE).await;
    for (side, url) in [("site", site.url()), ("hub", hub.url())] {
        let js = async_nats::jetstream::new(common::connect(&url).await);
        let log = replay::JetStreamLog::new(js, replay::Quarantine::in_memory());
        // The event changes no state (n1 already carries the control plane), so wait for the copy itself.
        let copies = eventually(&format!("the retried event at the {side}"), CONVERGE, || async {
            let history = replay::history(&log, &node).await.ok()?;
            let copies = history.iter().filter(|e| e.recorded.envelope.id == envelope.id).count();
            (copies > 0).then_some(copies)
        })
        .await;
        assert_eq!(copies, 1, "stored once at the {side}");
    }
}

#[actix_rt::test]
async fn sites_with_clocks_ten_minutes_off_still_converge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let ahead = Site::start(
        dir.path(),
        &hub,
        "ahead",
        &[("EDGEFLEET_CLOCK_OFFSET_MS", "600000".into())],
    )
    .await;
    let behind = Site::start(
        dir.path(),
        &hub,
        "behind",
        &[("EDGEFLEET_CLOCK_OFFSET_MS", "-600000".into())],
    )
    .await;
    let _agents: Vec<_> = ["n1", "n2"]
        .iter()
        .flat_map(|n| [agent(dir.path(), &ahead, n), agent(dir.path(), &behind, n)])
        .collect();
    all_ready_at_site(&ahead, &["n1", "n2"]).await;
    all_ready_at_site(&behind, &["n1", "n2"]).await;
    let intents = HubIntents::connect(&hub.url()).await;
    for site in [&ahead, &behind] {
        intents.label_site(&site.id, "tz", "skewed").await;
        intents.assign(&site.id, "n2", "main", NodeRole::Worker).await;
    }
    for site in [&ahead, &behind] {
        converged(&hub, site, CONVERGE).await;
        eventually(
            "n2 acknowledged the hub's assignment",
            Duration::from_secs(60),
            || async {
                let n2 = node_state(&site.url(), &site.id, "n2").await?;
                (!n2.drifting() && n2.lifecycle() == NodeLifecycle::Ready).then_some(())
            },
        )
        .await;
        converged(&hub, site, CONVERGE).await;
    }
    // The hub judges connection by when beacons arrive, not by the sites' clocks.
    let sites = hub.api("sites.list").await;
    for row in sites.as_array().expect("rows") {
        assert_eq!(row["connection"], "connected", "{row}");
    }
}
