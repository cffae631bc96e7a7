//! The `edgefleet` binary end to end, against real nats-servers.

mod common;

use common::bare_site::BareSite;
use common::{eventually, Hub};
use std::process::Output;
use std::time::Duration;
use testkit::{fixtures, NatsServer};
use tokio::process::Command;

/// One demo at a time: each runs a whole fleet (the zero-touch one a LAN of machines with servers each), and two at
/// once on a two-core machine starved the zero-touch one past its deadlines.
static ONE_DEMO_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn edgefleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(args)
        .env_remove("EDGEFLEET_HUB")
        .output()
        .await
        .expect("edgefleet runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `edgefleet ARGS` as the admin of `hub`.
async fn edgefleet_at(hub: &Hub, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(args)
        .envs(hub.cli_env())
        .output()
        .await
        .expect("edgefleet runs")
}

/// A fleet holding the `node_lifecycle` fixture (hub and site events of node/store-0042/n1): the hub's intents
/// written at the hub, the site's events at the site's own server and copied by the hub.
async fn fleet_with_fixture(dir: &std::path::Path) -> (Hub, BareSite) {
    let hub = Hub::start(dir).await;
    let site = BareSite::start(dir, &hub, "store-0042").await;
    let fixture = fixtures::node_lifecycle().records();
    let site_stream = events::subject::site_stream(&site.id);
    let (at_site, at_hub): (Vec<_>, Vec<_>) = fixture.into_iter().partition(|r| r.subject.starts_with("ef.site."));
    replay::import_records(&hub.js().await, &at_hub)
        .await
        .expect("hub events");
    replay::import_records(&site.js, &at_site).await.expect("site events");
    let copy = hub.site_js(&site.id).await;
    eventually(
        "the hub's copy of the site's events",
        Duration::from_secs(60),
        || async {
            // A bare site sends no beacons: kick the copy as the hub does when a site's link comes up.
            let _ = replay::resume_source(&copy, &site_stream).await;
            let copied = replay::stream_reader::last_seq(&copy, &site_stream).await.ok()??;
            (copied >= at_site.len() as u64).then_some(())
        },
    )
    .await;
    (hub, site)
}

/// A plain server holding the `node_lifecycle` fixture in one account (for the raw stream tools).
async fn hub_with_fixture() -> NatsServer {
    let server = NatsServer::hub().await.expect("hub starts");
    let js = async_nats::jetstream::new(server.connect().await.expect("connect"));
    let policy = replay::StreamPolicy::default();
    replay::ensure_intent_stream(&js, &policy).await.expect("intent stream");
    replay::ensure_site_stream(&js, &testkit::token("store-0042"), &policy)
        .await
        .expect("site stream");
    replay::import_records(&js, &fixtures::node_lifecycle().records())
        .await
        .expect("import");
    server
}

#[tokio::test]
async fn the_demo_tells_its_story_and_exits_zero_with_once() {
    let _one_at_a_time = ONE_DEMO_AT_A_TIME.lock().await;
    let out = edgefleet(&["demo", "--once", "--sites", "3", "--nodes", "3"]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "demo failed:\n{text}\n{}", stderr(&out));
    for expected in [
        "hub up on nats://127.0.0.1:",
        "3 sites added (one account each at the hub) and up as leaf nats-servers",
        "9 node agents joined with their site's token",
        "every cluster provisioned through the ClusterRuntime and ready",
        "rollout r1 → edge-stack@2",
        "link to the hub is cut mid-rollout",
        "link healed",
        "rollout r1 complete: every cluster runs edge-stack@2, 0 failures",
        "app menu-board@1 placed by intent",
        "installed at store-1/main, store-2/main",
        "store-1 cut off past the toleration: menu-board moved to store-2/main, store-3/main",
        "removed by offline",
        "store-1 healed: menu-board stays on store-2/main, store-3/main",
        "Nothing fits",
        "each store's local reader reads its own from the ef-config bucket",
        "it keeps serving lentil to its local apps",
        "store-1 healed: it serves borscht",
        "dashboard on http://127.0.0.1:",
        "with a one-time link (used again: refused); its first screen counts 0 sites offline",
        "0 rollouts paused, 0 quarantined messages, 3 sites, 9 nodes, 3 clusters, 1 rollouts",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("FAILED"), "{text}");
}

/// `demo --zero-touch --once` (issue 13): machines in their own namespaces form an HA site, the first is lost, a
/// replacement joins, and the demo exits 0 (root and iproute2, as every LAN test).
#[tokio::test]
async fn the_zero_touch_demo_forms_an_ha_site_loses_its_first_machine_and_recovers() {
    let _one_at_a_time = ONE_DEMO_AT_A_TIME.lock().await;
    let out = edgefleet(&["demo", "--zero-touch", "--once"]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "demo failed:\n{text}\n{}", stderr(&out));
    for expected in [
        "a LAN of 4 machines: network namespaces",
        "4 machines booted from the same image",
        "one site formed by itself",
        "the site's NATS is three servers on them",
        "m1, the machine that bootstrapped the site, loses power",
        "recovered",
        "m5 booted from the same image and joined as the spare worker",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("FAILED"), "{text}");
}

#[tokio::test]
async fn history_lists_both_writers_events_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site) = fleet_with_fixture(dir.path()).await;
    let out = edgefleet_at(&hub, &["history", "node/store-0042/n1"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("#  TIME"), "{text}");
    assert_eq!(lines.len(), 7, "header + six events:\n{text}");
    assert!(
        lines[1].contains("site:store-0042") && lines[1].contains("NodeRegistered") && lines[1].contains("agent:n1")
    );
    assert!(lines[3].contains("hub") && lines[3].contains("NodeAssigned") && lines[3].contains("ops"));
    assert!(lines[6].contains("NodeReady") && lines[6].contains("EF_SITE_store-0042:4"));
}

#[tokio::test]
async fn history_as_json_carries_the_payloads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site) = fleet_with_fixture(dir.path()).await;
    let out = edgefleet_at(&hub, &["-o", "json", "history", "node/store-0042/n1"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    assert_eq!(lines.as_array().map(Vec::len), Some(6));
    assert_eq!(lines[2]["event"], "NodeAssigned");
    assert_eq!(lines[2]["payload"]["Node"]["Assigned"]["cluster"], "pos-cluster");
}

#[tokio::test]
async fn get_at_an_earlier_event_shows_the_state_then() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site) = fleet_with_fixture(dir.path()).await;
    let json = |args: &'static [&'static str]| {
        let hub = &hub;
        async move {
            let mut all = args.to_vec();
            all.extend(["-o", "json"]);
            let out = edgefleet_at(hub, &all).await;
            assert!(out.status.success(), "{}", stderr(&out));
            serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json state")
        }
    };
    let now = json(&["get", "node/store-0042/n1"]).await;
    let then = json(&["get", "node/store-0042/n1", "--at", "2"]).await;
    // The API's view, spelled as everywhere else: never the internal state shape or Debug-cased enums.
    assert_eq!(now["state"], "ready");
    assert_eq!(now["role"], "control-plane");
    assert_eq!(now["cluster"], "pos-cluster");
    assert_eq!(then["state"], "unassigned");
    assert_eq!(then["labels"]["rack"], "a", "the second event (labels) is included");
    assert!(
        stderr(&edgefleet_at(&hub, &["get", "node/store-0042/n1", "--at", "2"]).await).contains("after 2 of 6 events")
    );
    let at_time = json(&["get", "node/store-0042/n1", "--at", "2026-01-01T00:00:02Z"]).await;
    assert_eq!(at_time["labels"]["rack"], "a", "events up to 00:00:02 are applied");
    assert_eq!(
        at_time["assigned_cluster"],
        serde_json::Value::Null,
        "the 00:00:03 assignment is not"
    );
}

/// Defect 11: `-o yaml` prints YAML (it printed JSON), in the same spelling as the rest of the CLI.
#[tokio::test]
async fn get_prints_yaml_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site) = fleet_with_fixture(dir.path()).await;
    let out = edgefleet_at(&hub, &["get", "node/store-0042/n1", "--at", "4", "-o", "yaml"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.trim_start().starts_with('{'), "not JSON: {text}");
    let yaml: serde_json::Value = serde_norway::from_str(&text).expect("YAML");
    assert_eq!(yaml["role"], "control-plane", "{text}");
    assert!(text.contains("role: control-plane"), "{text}");
}

/// Defect 11: a client command writing into a closed pipe ends quietly, like any Unix tool. The history is made
/// long enough (~1 MB of JSON) that the writer outlives the pipe's buffer and really meets the closed end.
#[tokio::test]
async fn a_closed_pipe_ends_the_output_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site) = fleet_with_fixture(dir.path()).await;
    let js = hub.js().await;
    let mut log = fixtures::FixtureLog::new();
    let node = events::AggregateRef::node(&testkit::token("store-0042"), &testkit::token("n1"));
    for generation in 10..3_010 {
        let labels = [("rack".to_string(), format!("r{generation}"))].into();
        log.hub(&node, events::node::NodeEvent::LabelsSet { generation, labels }, "ops");
    }
    replay::import_records(&js, &log.records()).await.expect("import");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' history node/store-0042/n1 -o json | head -c 1 >/dev/null",
            env!("CARGO_BIN_EXE_edgefleet")
        ))
        .envs(hub.cli_env())
        .output()
        .expect("sh runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site) = fleet_with_fixture(dir.path()).await;
    let unknown = edgefleet_at(&hub, &["history", "node/store-0042/nope"]).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no events for node/store-0042/nope"));

    let bad_at = edgefleet_at(&hub, &["get", "node/store-0042/n1", "--at", "yesterday"]).await;
    assert_eq!(bad_at.status.code(), Some(1));
    assert!(
        stderr(&bad_at).contains("expected an event number or an RFC 3339 time"),
        "{}",
        stderr(&bad_at)
    );

    let bad_ref = edgefleet(&["history", "node/n1"]).await;
    assert_eq!(bad_ref.status.code(), Some(1));
    assert!(stderr(&bad_ref).contains("write node/SITE/n1"), "{}", stderr(&bad_ref));

    let no_hub = edgefleet(&["history", "site/store-0042"]).await;
    assert_eq!(no_hub.status.code(), Some(1));
    assert!(stderr(&no_hub).contains("EDGEFLEET_HUB"));

    let usage = edgefleet(&["history"]).await;
    assert_eq!(usage.status.code(), Some(2), "usage errors exit 2");
}

#[tokio::test]
async fn replay_writes_snapshots_and_the_second_run_reads_only_the_tail() {
    let server = hub_with_fixture().await;
    let url = server.client_url();
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_string_lossy().into_owned();
    let first = edgefleet(&["replay", "--data-dir", &data_dir, "--hub", &url, "-o", "json"]).await;
    assert!(first.status.success(), "{}", stderr(&first));
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).expect("json");
    assert_eq!(first["messages"], 6);
    assert_eq!(first["from_snapshot"], false);

    let second = edgefleet(&["replay", "--data-dir", &data_dir, "--hub", &url, "-o", "json"]).await;
    let second: serde_json::Value = serde_json::from_slice(&second.stdout).expect("json");
    assert_eq!(second["messages"], 0, "nothing new since the snapshot");
    assert_eq!(second["from_snapshot"], true);
    assert_eq!(second["aggregates"], 1);
}

#[tokio::test]
async fn export_and_import_move_a_stream_between_hubs() {
    let source = hub_with_fixture().await;
    let target = NatsServer::hub().await.expect("second hub");
    let js = async_nats::jetstream::new(target.connect().await.expect("connect"));
    replay::ensure_site_stream(&js, &testkit::token("store-0042"), &replay::StreamPolicy::default())
        .await
        .expect("stream");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("site.eflog").to_string_lossy().into_owned();

    let export = edgefleet(&[
        "export",
        "--stream",
        "EF_SITE_store-0042",
        "-f",
        &file,
        "--hub",
        &source.client_url(),
    ])
    .await;
    assert!(export.status.success(), "{}", stderr(&export));
    assert!(stderr(&export).contains("exported 4 message(s)"));
    let import = edgefleet(&["import", "-f", &file, "--hub", &target.client_url()]).await;
    assert!(
        stderr(&import).contains("4 stored, 0 already present"),
        "{}",
        stderr(&import)
    );
    let again = edgefleet(&["import", "-f", &file, "--hub", &target.client_url()]).await;
    assert!(
        stderr(&again).contains("0 stored, 4 already present"),
        "{}",
        stderr(&again)
    );
}
