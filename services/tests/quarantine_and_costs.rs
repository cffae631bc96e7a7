//! What the hub could not read is visible (defect 10): `edgefleet quarantine ls|get` and a count per site in
//! `sites ls`, kept across a hub restart. And what a request costs: a hub `nodes.assign` reads the log once
//! before its append — counted in the hub's own trace, where every decision carries its request and aggregate.

mod common;

use common::cli::{json, ok, run};
use common::{agent, eventually, Hub, Site};
use std::time::Duration;

#[actix_rt::test]
async fn corrupt_events_from_a_site_are_listed_with_their_reason_and_first_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "store-1", &[]).await;
    eventually("the site known at the hub", Duration::from_secs(30), || async {
        (json(&hub, &["sites", "ls"]).as_array()?.len() == 1).then_some(())
    })
    .await;

    // Bytes that are no event, and an event header from a schema this build does not know, in the site's stream.
    let js = site.js().await;
    let garbage = b"\x00\x01 not an edgefleet event".to_vec();
    let future = b"EF\x09\x00from a newer edgefleet".to_vec();
    for payload in [garbage.clone(), future] {
        js.publish("ef.site.store-1.node.bogus", payload.into())
            .await
            .expect("publish")
            .await
            .expect("stored at the site");
    }

    let listed = eventually(
        "two quarantined messages at the hub",
        Duration::from_secs(30),
        || async {
            let rows = json(&hub, &["quarantine", "ls", "--site", "store-1"]);
            (rows.as_array()?.len() == 2).then_some(rows)
        },
    )
    .await;
    let reasons: Vec<&str> = listed
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("bad magic")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("unknown schema version 9")),
        "{reasons:?}"
    );
    let first = &listed[0];
    assert_eq!(first["stream"], "EF_SITE_store-1");
    assert_eq!(first["subject"], "ef.site.store-1.node.bogus");
    let seq = first["seq"].as_u64().expect("seq").to_string();
    let one = json(&hub, &["quarantine", "get", "EF_SITE_store-1", &seq]);
    let hex: String = garbage.iter().take(32).map(|b| format!("{b:02x}")).collect();
    assert_eq!(one["first_bytes"], hex.as_str(), "{one}");
    assert_eq!(one["size"], garbage.len() as u64);
    let sites = json(&hub, &["sites", "ls"]);
    assert_eq!(sites[0]["quarantined"], 2, "{sites}");
    let table = ok(&hub, &["sites", "ls"]);
    assert!(table.contains("QUARANTINED"), "{table}");
    let missing = run(&hub, &["quarantine", "get", "EF_SITE_store-1", "999"]);
    assert_eq!(missing.status.code(), Some(1));

    // Evidence survives a hub restart.
    hub.kill9_and_restart(dir.path()).await;
    let after = json(&hub, &["quarantine", "ls"]);
    assert_eq!(after.as_array().map(Vec::len), Some(2), "{after}");
}

#[actix_rt::test]
async fn an_assignment_reads_the_log_once_before_its_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = [(
        "RUST_LOG",
        "warn,edgefleet::hub::api=info,edgefleet::log=debug,actors::aggregate_actor=debug".to_string(),
    )];
    let hub = Hub::start_with_env(dir.path(), &trace).await;
    let site = Site::start_with_image(dir.path(), &hub, "store-1", &[], None).await;
    let _agent = agent(dir.path(), &site, "n1");
    ok(&hub, &["apply", "-f", "examples/profile.yaml"]);
    eventually("n1 registered at the hub", Duration::from_secs(60), || async {
        (json(&hub, &["nodes", "ls", "--state", "unassigned"]).as_array()?.len() == 1).then_some(())
    })
    .await;
    ok(
        &hub,
        &[
            "clusters",
            "create",
            "c1",
            "--site",
            "store-1",
            "--profile",
            "edge-stack@1",
        ],
    );
    ok(
        &hub,
        &["nodes", "assign", "n1", "--cluster", "c1", "--role", "control-plane"],
    );
    let log = hub.process.log_text();
    let of_assign: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("endpoint=\"nodes.assign\""))
        .collect();
    let reads = of_assign.iter().filter(|l| l.contains("log read")).count();
    let appends = of_assign.iter().filter(|l| l.contains("appended")).count();
    assert_eq!(appends, 1, "one append:\n{}", of_assign.join("\n"));
    assert_eq!(reads, 1, "one log read before it:\n{}", of_assign.join("\n"));
    assert!(
        of_assign
            .iter()
            .any(|l| l.contains("node=\"n1\"") && l.contains("site=\"store-1\"")),
        "the decision carries its aggregate:\n{}",
        of_assign.join("\n")
    );
}
