//! The operator's provisioning flow through the `edgefleet` CLI against a real hub and site:
//! agents register → nodes unassigned → profile applied → cluster created → three nodes assigned → provisioned
//! through the cluster runtime → cluster ready with its nodes, roles and running profile. Outputs are pinned with
//! insta (times redacted).

mod common;

use common::cli::{assign, create_cluster, json, ok, run};
use common::{agent, eventually, Hub, Site};
use std::time::Duration;

/// Redacts what changes from run to run: heartbeat ages (the last table column, `-` until the site's first
/// beacon mentions the node).
macro_rules! assert_cli_snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ filters => vec![
            (r"(?m)  (\d+(ms|s) ago|-)$", "  [heartbeat]"),
            (r#""last_heartbeat_ms_ago": \d+"#, r#""last_heartbeat_ms_ago": "[ms]""#),
        ] }, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

#[actix_rt::test]
async fn registration_to_a_ready_cluster_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start_with_image(dir.path(), &hub, "store-1", &[], None).await;
    let _agents: Vec<_> = ["n1", "n2", "n3"].iter().map(|n| agent(dir.path(), &site, n)).collect();

    // Agents register; the hub shows the nodes unassigned.
    eventually("three unassigned nodes at the hub", Duration::from_secs(60), || async {
        let rows = json(&hub, &["nodes", "ls", "--site", "store-1", "--state", "unassigned"]);
        (rows.as_array()?.len() == 3).then_some(())
    })
    .await;
    assert_cli_snapshot!("nodes_ls_unassigned", ok(&hub, &["nodes", "ls", "--site", "store-1"]));

    // Profile, cluster, assignments — the manifest way and the command way.
    let applied = run(&hub, &["profiles", "apply", "-f", "examples/profile.yaml"]);
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    assert!(String::from_utf8_lossy(&applied.stderr).contains("profile/edge-stack@1 created"));
    let again = run(&hub, &["apply", "-f", "examples/profile.yaml"]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("profile/edge-stack@1 unchanged"),
        "immutable, idempotent"
    );
    assert_cli_snapshot!("profiles_ls", ok(&hub, &["profiles", "ls"]));
    assert_cli_snapshot!("profiles_get", ok(&hub, &["profiles", "get", "edge-stack@1"]));

    create_cluster(&hub, "main", "store-1", "edge-stack@1", &["tier=store"]);
    assign(&hub, "n1", None, "main", "control-plane");
    let manifest =
        "apiVersion: edgefleet/v1\nkind: Node\nmetadata: {name: n2}\nspec: {cluster: main, role: worker}\n---\n\
                    kind: Node\nmetadata: {name: n3, labels: {rack: b}}\nspec: {cluster: main, role: worker}\n";
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(["apply", "-f", "-"])
        .envs(hub.cli_env())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), manifest.as_bytes()).expect("write manifest");
    let applied = child.wait_with_output().expect("apply");
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));

    // The site controller provisions through the cluster runtime; nodes report ready; the cluster is ready.
    let cluster = eventually(
        "cluster main ready with three nodes",
        Duration::from_secs(90),
        || async {
            let cluster = json(&hub, &["clusters", "get", "main"]);
            let ready = cluster["state"] == "ready"
                && cluster["members"].as_array()?.len() == 3
                && cluster["members"].as_array()?.iter().all(|m| m["state"] == "ready");
            ready.then_some(cluster)
        },
    )
    .await;
    assert_eq!(cluster["running_profile"], "edge-stack@1");
    assert_cli_snapshot!("clusters_get_table", ok(&hub, &["clusters", "get", "main"]));
    assert_cli_snapshot!(
        "clusters_get_json",
        serde_json::to_string_pretty(&cluster).expect("json")
    );
    eventually("nodes ready at the hub", Duration::from_secs(30), || async {
        let rows = json(&hub, &["nodes", "ls", "--state", "ready"]);
        (rows.as_array()?.len() == 3).then_some(())
    })
    .await;
    assert_cli_snapshot!("nodes_ls_ready", ok(&hub, &["nodes", "ls"]));
    assert_cli_snapshot!("nodes_ls_labelled", ok(&hub, &["nodes", "ls", "-l", "rack=b"]));

    // Audit and time travel, addressed as KIND/ID.
    let history = ok(&hub, &["history", "node/n1"]);
    for event in [
        "NodeRegistered",
        "NodeAssigned",
        "NodeJoined",
        "NodeProvisioning",
        "NodeReady",
    ] {
        assert!(history.contains(event), "{event} missing:\n{history}");
    }
    let assigned = history.lines().find(|l| l.contains("NodeAssigned")).unwrap_or_default();
    assert!(
        assigned.split_whitespace().nth(4) == Some("admin"),
        "the authenticated caller is recorded as who assigned it:\n{history}"
    );
    let joined = json(&hub, &["get", "node/n1", "--at", "1"]);
    assert_eq!(
        joined["state"], "unregistered",
        "event 1: the node joined with its own identity"
    );
    let registered = json(&hub, &["get", "node/n1", "--at", "2"]);
    assert_eq!(registered["state"], "unassigned");
    assert_eq!(registered["assigned_cluster"], serde_json::Value::Null);

    // A refused request exits 1 and changes nothing; a usage error exits 2.
    let refused = run(
        &hub,
        &["nodes", "assign", "n2", "--cluster", "nope", "--role", "worker"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cluster nope does not exist at site store-1"));
    let usage = run(&hub, &["nodes", "assign", "n2", "--cluster", "main", "--role", "boss"]);
    assert_eq!(usage.status.code(), Some(2));
    let bad_manifest = run(&hub, &["apply", "-f", "Cargo.toml"]);
    assert_eq!(
        bad_manifest.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&bad_manifest.stderr)
    );
    assert_eq!(
        json(&hub, &["nodes", "get", "n2"])["assigned_cluster"],
        "main",
        "the refused assignment changed nothing"
    );
    let yaml = ok(&hub, &["clusters", "ls", "-o", "yaml"]);
    assert!(
        yaml.contains("id: main") && yaml.contains("running_profile: edge-stack@1"),
        "{yaml}"
    );
}
