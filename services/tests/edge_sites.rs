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
                let state = node_state(&site.homes().await, &site.id, node).await?;
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
    let intents = HubIntents::connect(&hub, &[&s1.id, &s2.id]).await;
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
    let intents = HubIntents::connect(&hub, &[&s1.id, &s2.id]).await;
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
    let s2_state = replayed(&s2.homes().await, &s2.id).await;
    let Some(actors::AnyAggregate::Site(s2_site)) = s2_state.get(&AggregateRef::site(&s2.id)) else {
        panic!("s2 site")
    };
    assert_eq!(s2_site.spec.labels.get("region").map(String::as_str), Some("south"));

    // No lost events: the hub holds exactly the site's events.
    for site in [&s1, &s2] {
        let stream = events::subject::site_stream(&site.id);
        let count = |js: async_nats::jetstream::Context| {
            let stream = stream.clone();
            async move {
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
            count(hub.site_js(&site.id).await).await,
            count(site.js().await).await,
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
    let intents = HubIntents::connect(&hub, &[&site.id]).await;
    intents.create_cluster(&site.id, "lab").await;
    intents.assign(&site.id, "n4", "lab", NodeRole::ControlPlane).await;
    let at_site = node_state(&site.homes().await, &site.id, "n4")
        .await
        .expect("n4 at the site");
    assert_eq!(
        at_site.spec.generation, 0,
        "the site cannot have the intent during the cut"
    );

    site.link.heal();
    eventually("n4 moved to lab and ready", Duration::from_secs(60), || async {
        let n4 = node_state(&site.homes().await, &site.id, "n4").await?;
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
    let js = site.js().await;
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
    for (side, homes) in [("site", site.homes().await), ("hub", hub.homes(&site.id).await)] {
        let stream_homes = replay::StreamHomes::single(homes[0].0.clone());
        for (js, stream) in &homes {
            stream_homes.place(stream, js.clone());
        }
        let log = replay::JetStreamLog::with_homes(stream_homes, replay::Quarantine::in_memory());
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
    let intents = HubIntents::connect(&hub, &[&ahead.id, &behind.id]).await;
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
                let n2 = node_state(&site.homes().await, &site.id, "n2").await?;
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

/// Publishes `count` valid site events (liveness transitions of simulated nodes) as the site's writer would,
/// with message ids and many acks in flight.
async fn write_site_events(site: &Site, count: u64) {
    use futures::StreamExt;
    let js = site.js().await;
    let mut in_flight = futures::stream::FuturesUnordered::new();
    for i in 0..count {
        let node = AggregateRef::node(&site.id, &testkit::token(&format!("sim{}", i % 1000)));
        let payload = if (i / 1000) % 2 == 0 {
            events::node::NodeEvent::WentSilent {
                last_seen: events::Hlc {
                    physical_ms: i,
                    logical: 0,
                },
            }
        } else {
            events::node::NodeEvent::CameBack
        };
        let envelope = events::Envelope {
            id: events::EventId::generate(actors::process_clock::system_wall_ms()),
            aggregate: node.clone(),
            origin: events::Origin::Site(site.id.clone()),
            hlc: events::Hlc {
                physical_ms: actors::process_clock::system_wall_ms(),
                logical: i as u32,
            },
            by: Some("bulk".into()),
            payload: payload.into(),
        };
        let subject = events::subject::subject(events::Writer::Site, &node).expect("subject");
        let message = async_nats::jetstream::message::PublishMessage::build()
            .payload(events::encode(&envelope).into())
            .message_id(envelope.msg_id());
        in_flight.push(std::future::IntoFuture::into_future(
            js.send_publish(subject, message).await.expect("publish"),
        ));
        if in_flight.len() >= 2048 {
            in_flight.next().await.expect("ack pending").expect("acked");
        }
    }
    while let Some(ack) = in_flight.next().await {
        ack.expect("acked");
    }
}

async fn stream_messages(js: &async_nats::jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

#[actix_rt::test]
async fn a_long_cut_with_100000_site_events_catches_up() {
    let events_during_cut = std::env::var("EDGEFLEET_CUT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "ship", &[]).await;
    let stream = events::subject::site_stream(&site.id);
    // Heard by the hub before the cut, so that the cut shows as a disconnection.
    eventually("the hub hearing the ship", CONVERGE, || async {
        (hub.api("sites.list").await[0]["connection"] == "connected").then_some(())
    })
    .await;

    site.link.cut();
    let written = std::time::Instant::now();
    write_site_events(&site, events_during_cut).await;
    let write_s = written.elapsed().as_secs_f64();
    let at_site = stream_messages(&site.js().await, &stream).await;
    assert!(
        at_site >= events_during_cut,
        "all events stored at the site during the cut"
    );
    let sites = hub.api("sites.list").await;
    assert_eq!(sites[0]["connection"], "disconnected", "{sites}");

    let hub_copy = hub.site_js(&site.id).await;
    let healed = std::time::Instant::now();
    site.link.heal();
    eventually("the hub copy catching up", Duration::from_secs(300), || async {
        (stream_messages(&hub_copy, &stream).await >= at_site).then_some(())
    })
    .await;
    let catch_up = healed.elapsed();
    eprintln!(
        "FIGURE catch-up after a cut holding {events_during_cut} site events: {:.2} s ({:.0} events/s; written at the site in {write_s:.1} s, fsync per write at the site, the hub copy asynchronous)",
        catch_up.as_secs_f64(),
        events_during_cut as f64 / catch_up.as_secs_f64()
    );
    assert_eq!(
        stream_messages(&hub_copy, &stream).await,
        at_site,
        "no event lost, none doubled"
    );
    let (_, state) = converged(&hub, &site, Duration::from_secs(120)).await;
    assert!(state.len() >= 1000, "the simulated nodes replay on both sides");
    let sites = hub.api("sites.list").await;
    assert_eq!(sites[0]["replication_lag"], 0, "{sites}");
}

/// A small deterministic PRNG (xorshift64*) so a failing schedule can be replayed from its seed.
struct Schedule(u64);

impl Schedule {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % below
    }
}

#[actix_rt::test]
async fn randomized_partitions_and_kills_converge() {
    let seed = std::env::var("EDGEFLEET_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| actors::process_clock::system_wall_ms() | 1);
    eprintln!("randomized_partitions_and_kills_converge: seed {seed} (re-run with EDGEFLEET_SEED={seed})");
    let mut schedule = Schedule(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "rnd", &[]).await;
    let mut agents: Vec<_> = ["n1", "n2", "n3"].iter().map(|n| agent(dir.path(), &site, n)).collect();
    all_ready_at_site(&site, &["n1", "n2", "n3"]).await;
    let mut last_label = None;
    for step in 0..8 {
        let action = schedule.next(6);
        match action {
            0 => site.link.cut(),
            1 => site.link.heal(),
            2 => {
                let value = format!("v{step}");
                HubIntents::connect(&hub, &[&site.id])
                    .await
                    .label_site(&site.id, "step", &value)
                    .await;
                last_label = Some(value);
            }
            3 => site.kill9_nats().await,
            4 => hub.kill9_and_restart(dir.path()).await,
            _ => {
                let i = schedule.next(agents.len() as u64) as usize;
                agents[i].kill_group();
                agents[i] = agent(dir.path(), &site, &format!("n{}", i + 1));
            }
        }
        let pause_ms = 200 + schedule.next(1300);
        eprintln!("seed {seed} step {step}: action {action}, then {pause_ms} ms");
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
    }
    site.link.heal();
    let (took, state) = converged(&hub, &site, Duration::from_secs(90)).await;
    eprintln!("seed {seed}: converged {took:?} after the last heal");
    if let Some(value) = last_label {
        let Some(actors::AnyAggregate::Site(s)) = state.get(&AggregateRef::site(&site.id)) else {
            panic!("site")
        };
        assert_eq!(
            s.spec.labels.get("step"),
            Some(&value),
            "seed {seed}: the last intent reached the site"
        );
    }
    all_ready_at_site(&site, &["n1", "n2", "n3"]).await;
}

#[actix_rt::test]
async fn sites_ls_and_nodes_ls_show_connection_lag_and_heartbeats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "cafe", &[]).await;
    let _agents: Vec<_> = ["n1", "n2"].iter().map(|n| agent(dir.path(), &site, n)).collect();
    all_ready_at_site(&site, &["n1", "n2"]).await;
    converged(&hub, &site, CONVERGE).await;
    let cli = |args: Vec<String>| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
            .args(args)
            .envs(hub.cli_env())
            .output()
            .expect("runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let nodes = eventually("nodes ready at the hub", CONVERGE, || async {
        let text = cli(vec![
            "nodes".into(),
            "ls".into(),
            "--hub".into(),
            hub.url(),
            "-o".into(),
            "json".into(),
        ]);
        let rows: serde_json::Value = serde_json::from_str(&text).ok()?;
        let ready = rows
            .as_array()?
            .iter()
            .filter(|r| r["state"] == "ready" && r["last_heartbeat_ms_ago"].as_u64().is_some())
            .count();
        (ready == 2).then_some(rows)
    })
    .await;
    assert_eq!(nodes[0]["site"], "cafe");
    // nodes.list answers a page at a time, in (site, node) order, after a cursor; the CLI above read every page
    let ids = |page: serde_json::Value| -> Vec<String> {
        let rows = page.as_array().cloned().unwrap_or_default();
        rows.iter()
            .map(|r| {
                format!(
                    "{}/{}",
                    r["site"].as_str().unwrap_or("?"),
                    r["id"].as_str().unwrap_or("?")
                )
            })
            .collect()
    };
    let first = hub.api_with("nodes.list", serde_json::json!({"limit": 1})).await;
    assert_eq!(ids(first), ["cafe/n1"]);
    let after_n1 = serde_json::json!({"limit": 1, "after": {"site": "cafe", "id": "n1"}});
    assert_eq!(ids(hub.api_with("nodes.list", after_n1).await), ["cafe/n2"]);
    let after_n2 = serde_json::json!({"after": {"site": "cafe", "id": "n2"}});
    assert!(ids(hub.api_with("nodes.list", after_n2).await).is_empty());
    let huge = serde_json::json!({"limit": 1_000_000});
    assert_eq!(
        ids(hub.api_with("nodes.list", huge).await).len(),
        2,
        "a limit beyond the page size is the page size"
    );
    let malformed = hub
        .api_with("nodes.list", serde_json::json!({"after": "cafe/n1"}))
        .await;
    assert_eq!(malformed["error"]["code"], 400, "{malformed}");
    let table = cli(vec!["--hub".into(), hub.url(), "nodes".into(), "ls".into()]);
    assert!(table.starts_with("SITE  NODE  STATE  CLUSTER  ROLE"), "{table}");
    let sites = cli(vec!["sites".into(), "ls".into(), "--hub".into(), hub.url()]);
    assert!(sites.contains("cafe") && sites.contains("connected"), "{sites}");

    site.link.cut();
    write_site_events(&site, 50).await;
    let first_site = || {
        let text = cli(vec![
            "sites".into(),
            "ls".into(),
            "-o".into(),
            "json".into(),
            "--hub".into(),
            hub.url(),
        ]);
        let rows: serde_json::Value = serde_json::from_str(&text).ok()?;
        rows.as_array()?.first().cloned()
    };
    let row = eventually("the cut shown at the hub", CONVERGE, || async {
        let row = first_site()?;
        (row["connection"] == "disconnected").then_some(row)
    })
    .await;
    eprintln!("during the cut: {row}");
    site.link.heal();
    eventually("lag back to 0 after the heal", CONVERGE, || async {
        let row = first_site()?;
        (row["connection"] == "connected" && row["replication_lag"] == 0).then_some(())
    })
    .await;
}

#[actix_rt::test]
async fn a_hub_copy_that_stops_copying_is_found_stalled_by_sequences_and_resumed() {
    // Given a connected site whose copy at the hub holds all of its events
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "kiosk", &[]).await;
    write_site_events(&site, 10).await;
    converged(&hub, &site, CONVERGE).await;

    // When the copy's source goes away without a word (as a stalled source does: no error, a lag of 0) and the
    // site writes on
    let js = hub.site_js(&site.id).await;
    let mut copy = js.get_stream("EF_SITE_kiosk").await.expect("copy");
    let mut config = copy.info().await.expect("info").config.clone();
    config.sources = Some(vec![]);
    js.update_stream(&config).await.expect("source removed");
    write_site_events(&site, 50).await;

    // Then the hub sees the copy behind the site's beacon and standing still, says so, and sets it up again
    eventually("the hub reports the stalled copy", Duration::from_secs(40), || async {
        let log = hub.process.log_text();
        log.contains("copy of the site's stream stalled").then_some(())
    })
    .await;
    let (_, state) = converged(&hub, &site, CONVERGE).await;
    assert!(state.len() >= 50, "{} aggregates", state.len());
    let view = hub.api_with("sites.get", serde_json::json!({"id": "kiosk"})).await;
    assert_eq!(view["copy"], "caught-up", "{view}");
    assert_eq!(view["replication_lag"], 0, "{view}");
}
