//! Zero-touch sites on a real LAN (issue 13): machines in their own network namespaces on one bridge, each running
//! `edgefleet node` from the same site image, with the hub in the root namespace behind a cuttable link. No
//! machine is given an address: they find each other by UDP broadcast.

mod common;

use common::{eventually_with, Hub};
use std::path::{Path, PathBuf};
use std::time::Duration;
use testkit::lan::Lan;
use testkit::LinkProxy;

/// A hub reachable from the LAN's machines through a cuttable link on the bridge's address.
struct LanHub {
    hub: Hub,
    link: LinkProxy,
}

impl LanHub {
    async fn start(dir: &Path, lan: &Lan) -> LanHub {
        let bridge = lan.bridge_ip().to_string();
        let hub = Hub::start_with_args(dir, &dir.join("hub"), &[], vec!["--tls-name".into(), bridge]).await;
        let target = format!("127.0.0.1:{}", hub.leaf_port).parse().expect("addr");
        let link = LinkProxy::start_on(lan.bridge_ip(), target)
            .await
            .expect("proxy on the bridge");
        LanHub { hub, link }
    }

    /// Adds `site` and writes its site image (`<dir>/<site>-image/site-image.yaml`) for every machine.
    async fn site_image(&self, dir: &Path, site: &str) -> PathBuf {
        let bundle = dir.join(format!("{site}-bundle"));
        self.hub.add_site(site, &bundle, &self.link.leaf_url()).await;
        let image = dir.join(format!("{site}-image")).join("site-image.yaml");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
            .args(["site-image", "--bundle"])
            .arg(&bundle)
            .arg("--out")
            .arg(&image)
            .args(["--profile", "edge@1", "--settle-s", "2"])
            .output()
            .expect("edgefleet runs");
        assert!(
            out.status.success(),
            "site-image: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        image
    }

    /// The nodes of `site` the hub knows, as (id, role) sorted by id.
    async fn nodes(&self, site: &str) -> Vec<(String, String)> {
        let page = self
            .hub
            .api_with("nodes.list", serde_json::json!({"limit": 1000}))
            .await;
        let mut nodes: Vec<(String, String)> = page
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|n| n["site"] == site)
            .map(|n| {
                (
                    n["id"].as_str().unwrap_or("?").to_owned(),
                    n["role"].as_str().unwrap_or("-").to_owned(),
                )
            })
            .collect();
        nodes.sort();
        nodes
    }
}

/// `edgefleet node` on machine `index` of `lan`, as node `id`, with its data in `dir/<id>`.
fn boot(lan: &Lan, index: usize, dir: &Path, image: &Path, id: &str) -> common::process::EdgefleetProcess {
    let mut command = lan.command(index, env!("CARGO_BIN_EXE_edgefleet"));
    command
        .args(["node", "--site-image"])
        .arg(image)
        .arg("--data-dir")
        .arg(dir.join(id))
        .args(["--node-id", id, "--broadcast"])
        .arg(lan.broadcast().to_string())
        .env("RUST_LOG", "info")
        .env("EDGEFLEET_TELEMETRY_INTERVAL_S", "0");
    testkit::ChildProcess::spawn_command(id, command, &dir.join(format!("{id}.log"))).expect("node spawns")
}

fn serves(machine: &common::process::EdgefleetProcess) -> bool {
    machine.log_text().contains("serving site")
}

#[actix_rt::test]
async fn two_machines_booted_at_the_same_instant_form_one_site_in_repeated_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lan = Lan::build(2).expect("a LAN of two machines");
    let hub = LanHub::start(dir.path(), &lan).await;
    for round in 1..=3 {
        // Given a fresh site image and two machines that never ran,
        let site = format!("same-instant-{round}");
        let image = hub.site_image(dir.path(), &site).await;
        let round_dir = dir.path().join(format!("round-{round}"));
        std::fs::create_dir_all(&round_dir).expect("round dir");
        // with the hub unreachable in the first round,
        if round == 1 {
            hub.link.cut();
        }
        // when both boot at the same instant,
        let machines = [
            boot(&lan, 0, &round_dir, &image, "m-a"),
            boot(&lan, 1, &round_dir, &image, "m-b"),
        ];
        tokio::time::sleep(Duration::from_secs(4)).await;
        if round == 1 {
            hub.link.heal();
        }
        // then the hub sees one site with both machines in its cluster,
        let nodes = eventually_with(
            &format!("round {round}: the hub knows both machines of {site}"),
            Duration::from_secs(90),
            || async {
                let nodes = hub.nodes(&site).await;
                (nodes.len() == 2 && nodes.iter().all(|(_, role)| role != "-"))
                    .then_some(nodes.clone())
                    .ok_or(format!("{nodes:?}"))
            },
        )
        .await;
        // and exactly one machine serves it: the lowest id, the other joined it there.
        let serving: Vec<&str> = machines.iter().filter(|m| serves(m)).map(|m| m.name()).collect();
        assert_eq!(serving, ["m-a"], "round {round}: {nodes:?}");
        assert!(
            machines[1].log_text().contains("joining site"),
            "round {round}: m-b joins: {}",
            machines[1].log_text()
        );
        assert_eq!(
            nodes,
            [("m-a".into(), "control-plane".into()), ("m-b".into(), "worker".into())],
            "round {round}"
        );
        drop(machines);
    }
}

#[actix_rt::test]
async fn four_machines_booted_with_the_hub_away_form_one_site_of_three_control_plane_nodes_and_a_worker() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lan = Lan::build(4).expect("a LAN of four machines");
    let hub = LanHub::start(dir.path(), &lan).await;
    let image = hub.site_image(dir.path(), "four").await;
    // Given the hub unreachable,
    hub.link.cut();
    // when four machines boot from the same image, a second apart,
    let ids = ["m1", "m2", "m3", "m4"];
    let first_boot = std::time::Instant::now();
    let mut machines = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        machines.push(boot(&lan, index, dir.path(), &image, id));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // then one machine serves the site and the others join it, all without the hub;
    eventually_with("every machine in the site", Duration::from_secs(60), || async {
        let joined = machines
            .iter()
            .filter(|m| m.log_text().contains("joining site"))
            .count();
        (joined == 3).then_some(()).ok_or(format!("{joined} joined"))
    })
    .await;
    println!(
        "four machines in one site {:.1} s after the first booted",
        first_boot.elapsed().as_secs_f64()
    );
    let serving: Vec<&str> = machines.iter().filter(|m| serves(m)).map(|m| m.name()).collect();
    assert_eq!(serving, ["m1"]);
    // and once the link heals, the hub shows the site's cluster: three control-plane nodes and a worker.
    hub.link.heal();
    let nodes = eventually_with("the hub knows the four machines", Duration::from_secs(90), || async {
        let nodes = hub.nodes("four").await;
        let control_planes = nodes.iter().filter(|(_, role)| role == "control-plane").count();
        (nodes.len() == 4 && control_planes == 3)
            .then_some(nodes.clone())
            .ok_or(format!("{nodes:?}"))
    })
    .await;
    assert_eq!(
        nodes.iter().filter(|(_, role)| role == "worker").count(),
        1,
        "{nodes:?}"
    );
}
