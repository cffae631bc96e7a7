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

/// `edgefleet logs --site-nats …` as the site's local reader, with the bundle's key and CA.
fn local_lines(dir: &std::path::Path, hub: &Hub, site: &Site, args: &[&str]) -> std::process::Output {
    let bundle = dir.join(format!("{}-bundle", site.id));
    let key = bundle.join("local-reader.nk").display().to_string();
    let ca = bundle.join("site-ca.pem").display().to_string();
    let url = site.url();
    let mut all = vec![
        "-o",
        "json",
        "logs",
        "--site",
        "s2",
        "--since",
        "1h",
        "--site-nats",
        url.as_str(),
        "--reader-key",
        key.as_str(),
        "--site-ca",
        ca.as_str(),
    ];
    all.extend_from_slice(args);
    cli::run(hub, &all)
}

#[actix_rt::test]
async fn with_the_hub_gone_the_sites_local_reader_reads_its_lines_at_the_site_and_nothing_else() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut hub = Hub::start(dir.path()).await;
    let site = Site::start(dir.path(), &hub, "s2", &[]).await;
    let _agent = agent(dir.path(), &site, "n1");
    // (The link goes down only after it was up: the hub answered the site's beacon. Under load a cut made before
    // that logged nothing, and this test waited in vain.)
    eventually_with("the hub hears the site", Duration::from_secs(60), || async {
        let sites = hub.api("sites.list").await;
        (sites[0]["connection"] == "connected")
            .then_some(())
            .ok_or(sites.to_string())
    })
    .await;
    // Given the site cut off from its hub, and the hub stopped,
    site.link.cut();
    hub.stop();
    // its lines, the warning about the cut included, are read at the site by its local reader.
    let warned = eventually_with("the cut's warning at the site", Duration::from_secs(60), || async {
        let out = local_lines(dir.path(), &hub, &site, &["--node", "site", "--level", "warn"]);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<serde_json::Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        lines
            .iter()
            .find(|l| l["message"].as_str().is_some_and(|m| m.starts_with("hub link down")))
            .cloned()
            .ok_or(format!("so far: {stdout} {}", String::from_utf8_lossy(&out.stderr)))
    })
    .await;
    assert_eq!(warned["node"], "site");
    let agent_lines = local_lines(dir.path(), &hub, &site, &["--node", "n1"]);
    assert!(agent_lines.status.success());
    assert!(!agent_lines.stdout.is_empty(), "the agent's lines are there too");

    // A wrong key is refused by the site's server, and the reader may ask for nothing but log lines.
    let stranger = dir.path().join("stranger.nk");
    std::fs::write(&stranger, fleet_trust::UserKey::generate().seed()).expect("key");
    let bundle = dir.path().join("s2-bundle");
    let refused = cli::run(
        &hub,
        &[
            "logs",
            "--site",
            "s2",
            "--site-nats",
            &site.url(),
            "--reader-key",
            &stranger.display().to_string(),
            "--site-ca",
            &bundle.join("site-ca.pem").display().to_string(),
        ],
    );
    assert!(!refused.status.success(), "an unknown key reads nothing");
    let reader = common::local_reader(dir.path(), &site).await;
    let stream_info = tokio::time::timeout(
        Duration::from_secs(3),
        reader.request("$JS.API.STREAM.INFO.EF_TEL_s2", "".into()),
    )
    .await;
    assert!(
        !matches!(stream_info, Ok(Ok(_))),
        "no JetStream request is answered for the reader: {stream_info:?}"
    );
}
