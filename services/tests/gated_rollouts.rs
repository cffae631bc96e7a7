//! Telemetry-gated rollouts on real processes: agents sample the machine's real `/proc` every second, the site
//! judges the rollout's gate over its updated cluster's nodes from its own telemetry stream — with its hub link
//! cut — and the hub pauses the rollout once it hears; `rollouts explain` names the metric, the node and the value.

mod common;

use common::cli::{ok, rollout_args, try_json as json};
use common::eventually;
use common::store_fleet::{cluster_on, fleet_on_v1_with_agents, publish, rollout_complete};
use common::Site;
use events::{AggregateKind, AggregateRef, Payload, Scope, Token};
use std::time::Duration;

fn sampling_every_second() -> Vec<(&'static str, String)> {
    vec![("EDGEFLEET_TELEMETRY_INTERVAL_S", "1".into())]
}

/// The breach `site` recorded on its own stream for rollout `id`, if any: (node, series, value).
async fn breach_at_site(site: &Site, id: &str) -> Option<(String, String, String)> {
    let homes = site.homes().await;
    let stream_homes = replay::StreamHomes::single(homes[0].0.clone());
    for (js, stream) in &homes {
        stream_homes.place(stream, js.clone());
    }
    let log = replay::JetStreamLog::with_homes(stream_homes, replay::Quarantine::in_memory());
    let companion = AggregateRef {
        kind: AggregateKind::Rollout,
        scope: Scope::Site(site.id.clone()),
        id: Token::new(id).expect("rollout id"),
    };
    let history = replay::history(&log, &companion).await.ok()?;
    history.iter().find_map(|e| match &e.recorded.envelope.payload {
        Payload::Rollout(events::rollout::RolloutEvent::ClusterGateBreached {
            node, series, value, ..
        }) => Some((node.to_string(), series.clone(), value.clone())),
        _ => None,
    })
}

fn status(rollout: &serde_json::Value, wave: usize) -> String {
    rollout["waves"][wave][0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[actix_rt::test]
async fn a_gate_breached_while_cut_off_holds_the_site_then_pauses_the_rollout_and_is_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, sites, _agents) = fleet_on_v1_with_agents(dir.path(), &["g1", "g2"], &sampling_every_second()).await;
    publish(&hub, dir.path(), "2026.12", 2);
    // No machine has a petabyte of memory available: the first sample after the update breaches.
    let gate = "node_memory_MemAvailable_bytes > 1e15 for 10s";
    let mut create = rollout_args("rg", "edge-stack@2", "1,100%");
    create.extend(["--gate", gate]);
    ok(&hub, &create);

    // Cut g1 (the canary) while it updates: the gate is judged at the site with the hub gone.
    eventually("the canary updating", Duration::from_secs(120), || async {
        let r = json(&hub, &["rollouts", "get", "rg"])?;
        (status(&r, 0) == "updating").then_some(())
    })
    .await;
    sites[0].link.cut();
    let (node, series, value) = eventually("the breach on g1's own stream", Duration::from_secs(120), || {
        breach_at_site(&sites[0], "rg")
    })
    .await;
    assert_eq!(series, "node_memory_MemAvailable_bytes");
    assert!(node == "n1" || node == "n2", "{node}");
    let value_bytes: f64 = value.parse().expect("the value is a number");
    assert!(value_bytes > 0.0 && value_bytes <= 1e15, "{value}");
    let unheard = json(&hub, &["rollouts", "get", "rg"]).expect("rollout");
    assert_eq!(unheard["state"], "running", "the hub has not heard yet: {unheard}");
    assert_eq!(unheard["released_waves"], 1);

    sites[0].link.heal();
    let paused = eventually("paused for the gate", Duration::from_secs(120), || async {
        let r = json(&hub, &["rollouts", "get", "rg"])?;
        (r["state"] == "paused: gate breached").then_some(r)
    })
    .await;
    assert_eq!(paused["released_waves"], 1, "wave 1 is held: {paused}");
    assert_eq!(
        status(&paused, 0),
        format!("gate-breached: node {node} {series} = {value}")
    );
    assert!(cluster_on(&hub, "g2", "edge-stack@1"), "g2 was never touched");

    let explained = ok(&hub, &["rollouts", "explain", "rg"]);
    let breach = format!("node {node} reported {series} = {value}");
    let pause = format!("paused: gate node_memory_MemAvailable_bytes > 1000000000000000 for 10s breached on g1/main (node {node}: {series} = {value})");
    for expected in [
        breach.as_str(),
        pause.as_str(),
        "wave 0 (the canary) released: g1/main",
        "now:",
    ] {
        assert!(explained.contains(expected), "{expected:?} in:\n{explained}");
    }
    let as_json = json(&hub, &["rollouts", "explain", "rg"]).expect("explain as JSON");
    let now = as_json["now"][0].as_str().unwrap_or_default();
    assert!(now.starts_with("paused: gate") && now.contains(&value), "{as_json}");

    // A resume accepts the breach: wave 1 goes, g2 breaches too, and the hub pauses again — for g2 alone.
    ok(&hub, &["rollouts", "resume", "rg"]);
    let again = eventually("paused again for g2", Duration::from_secs(180), || async {
        let r = json(&hub, &["rollouts", "get", "rg"])?;
        (r["state"] == "paused: gate breached" && status(&r, 1).starts_with("gate-breached")).then_some(r)
    })
    .await;
    assert_eq!(again["released_waves"], 2);
    let explained = ok(&hub, &["rollouts", "explain", "rg"]);
    assert_eq!(
        explained.matches("paused: gate").count(),
        3,
        "two pauses and the line now:\n{explained}"
    );
    assert!(explained.contains("accepting 1 gate breaches"), "{explained}");
    assert!(explained.contains("breached on g2/main"), "{explained}");
}

#[actix_rt::test]
async fn a_gate_every_node_holds_lets_each_wave_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _sites, _agents) = fleet_on_v1_with_agents(dir.path(), &["h1", "h2"], &sampling_every_second()).await;
    publish(&hub, dir.path(), "2026.12", 2);
    let mut create = rollout_args("rp", "edge-stack@2", "1,100%");
    create.extend(["--gate", "node_memory_MemAvailable_bytes > 1 for 5s"]);
    ok(&hub, &create);
    let verifying = eventually("the canary verifying", Duration::from_secs(120), || async {
        let r = json(&hub, &["rollouts", "get", "rp"])?;
        let status = status(&r, 0);
        (status == "verifying" || r["released_waves"] == 2).then_some(status)
    })
    .await;
    println!("the canary was seen {verifying}");
    let done = rollout_complete(&hub, "rp").await;
    assert_eq!(done["gate"], "node_memory_MemAvailable_bytes > 1 for 5s");
    let explained = ok(&hub, &["rollouts", "explain", "rp"]);
    for expected in [
        "h1/main passed the gate node_memory_MemAvailable_bytes > 1 for 5s",
        "h2/main passed the gate",
        "wave 1 released: wave 0 passed its health gate (1 updated and through the gate)",
        "complete: wave 0: 1 updated and through the gate; wave 1: 1 updated and through the gate",
    ] {
        assert!(explained.contains(expected), "{expected:?} in:\n{explained}");
    }
    // A gate that does not parse is refused before anything is written.
    let mut bad = rollout_args("rx", "edge-stack@2", "1,100%");
    bad.extend(["--gate", "node_load1 == 4"]);
    let refused = common::cli::run(&hub, &bad);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("expected one of < <= > >="), "{stderr}");
}
