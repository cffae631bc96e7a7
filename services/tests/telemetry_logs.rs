//! Log lines of agents and of the site process: captured as structured lines, kept at the site while its link is
//! cut, delivered with the rest of its telemetry, and read with `edgefleet logs` at the hub.

mod common;

use common::{agent, cli, eventually_with, Hub, Site};
use std::time::Duration;

fn lines(hub: &Hub, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["logs", "--site", "s1", "--since", "1h"];
    all.extend_from_slice(args);
    let out = cli::run(hub, &[&["-o", "json"][..], &all].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[actix_rt::test]
async fn the_sites_and_agents_log_lines_reach_the_hub_even_from_a_cut() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "s1", &[]).await;
    let _agent = agent(dir.path(), &site, "n1");
    // Given the site and its agent logging as they work,
    eventually_with(
        "the site's and the agent's lines at the hub",
        Duration::from_secs(60),
        || async {
            let all = lines(&hub, &[]);
            let site_joined = all
                .iter()
                .any(|l| l["node"] == "site" && l["message"] == "node joined with its own identity");
            let agent_line = all.iter().any(|l| l["node"] == "n1");
            (site_joined && agent_line)
                .then_some(())
                .ok_or(format!("{} lines so far", all.len()))
        },
    )
    .await;
    // when the site's link is cut, what it logs meanwhile
    site.link.cut();
    tokio::time::sleep(Duration::from_secs(8)).await;
    site.link.heal();
    // reaches the hub after the heal, and a level filter keeps only what is at least that severe.
    let warned = eventually_with("the cut's warning at the hub", Duration::from_secs(60), || async {
        let warnings = lines(&hub, &["--node", "site", "--level", "warn"]);
        warnings
            .iter()
            .find(|l| l["message"].as_str().is_some_and(|m| m.starts_with("hub link down")))
            .cloned()
            .ok_or(format!("warnings so far: {warnings:?}"))
    })
    .await;
    assert_eq!(warned["level"], "warn");
    assert_eq!(warned["target"], "edgefleet::site::hub_beacon");
    let warnings = lines(&hub, &["--level", "warn"]);
    assert!(
        warnings.iter().all(|l| l["level"] == "warn" || l["level"] == "error"),
        "{warnings:?}"
    );
    // The text form: time, level, node, target, message.
    let text = cli::ok(
        &hub,
        &[
            "logs", "--site", "s1", "--node", "site", "--since", "1h", "--level", "warn",
        ],
    );
    assert!(
        text.contains("WARN  site edgefleet::site::hub_beacon: hub link down"),
        "{text}"
    );
}
