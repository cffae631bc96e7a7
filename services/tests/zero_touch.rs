//! Zero-touch sites on a real LAN (issue 13): machines in their own network namespaces on one bridge, each running
//! `edgefleet node` from the same site image, with the hub in the root namespace behind a cuttable link. No
//! machine is given an address: they find each other by UDP broadcast.

mod common;

use common::{eventually_with, test_dir, Hub};
use std::path::{Path, PathBuf};
use std::time::Duration;
use testkit::lan::Lan;
use testkit::LinkProxy;

/// One LAN test at a time: each runs a hub and four or five machines, each with servers; two at once on a
/// two-core machine starved one of them past its deadlines.
static ONE_LAN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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

    /// Waits until the hub knows `site`'s four nodes, three of them control-plane and one a worker; returns them as
    /// [`Self::nodes`]. (A node's own membership event follows its cluster's, so the hub can see three control-plane
    /// members a moment before it sees the fourth node as their worker.)
    async fn four_with_three_control_planes(&self, site: &str) -> Vec<(String, String)> {
        eventually_with("the hub knows the four machines", Duration::from_secs(90), || async {
            let nodes = self.nodes(site).await;
            let control_planes = nodes.iter().filter(|(_, role)| role == "control-plane").count();
            let workers = nodes.iter().filter(|(_, role)| role == "worker").count();
            (nodes.len() == 4 && control_planes == 3 && workers == 1)
                .then_some(nodes.clone())
                .ok_or(format!("{nodes:?}"))
        })
        .await
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
    boot_with(lan, index, dir, image, id, &[])
}

/// [`boot`] with more environment (`NODE_LOG` sets the machines' `RUST_LOG`, for a test run by hand).
fn boot_with(
    lan: &Lan,
    index: usize,
    dir: &Path,
    image: &Path,
    id: &str,
    env: &[(&str, &str)],
) -> common::process::EdgefleetProcess {
    let mut command = lan.command(index, env!("CARGO_BIN_EXE_edgefleet"));
    command
        .args(["node", "--site-image"])
        .arg(image)
        .arg("--data-dir")
        .arg(dir.join(id))
        .args(["--node-id", id, "--broadcast"])
        .arg(lan.broadcast().to_string())
        .env("RUST_LOG", std::env::var("NODE_LOG").unwrap_or_else(|_| "info".into()))
        .env("EDGEFLEET_TELEMETRY_INTERVAL_S", "0")
        .envs(env.iter().copied());
    testkit::ChildProcess::spawn_command(id, command, &dir.join(format!("{id}.log"))).expect("node spawns")
}

fn serves(machine: &common::process::EdgefleetProcess) -> bool {
    machine.log_text().contains("serving site")
}

/// The servers of `site`'s NATS cluster as its meta leader reports them, `(name, online)` sorted, asked from inside
/// machine `index` through the site's system user (its password derives from the site image's join token).
fn site_nats_servers(lan: &Lan, index: usize, dir: &Path, site: &str) -> Result<Vec<(String, bool)>, String> {
    let token =
        std::fs::read_to_string(dir.join(format!("{site}-image")).join("join.token")).map_err(|e| e.to_string())?;
    let site_token = events::Token::new(site).map_err(|e| e.to_string())?;
    let password = fleet_trust::site_system_password(&site_token, token.trim());
    let ca = fleet_trust::SiteBundlePaths::new(dir.join(format!("{site}-bundle"))).site_ca();
    let system = async_nats::ConnectOptions::with_user_and_password("system".into(), password);
    with_machine_client(lan, index, system, ca, |client| async move {
        use futures::StreamExt as _;
        let inbox = client.new_inbox();
        let mut answers = client.subscribe(inbox.clone()).await.map_err(|e| e.to_string())?;
        client
            .publish_with_reply("$SYS.REQ.SERVER.PING.JSZ", inbox, "{}".into())
            .await
            .map_err(|e| e.to_string())?;
        let deadline = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(deadline);
        loop {
            let answer = tokio::select! {
                Some(answer) = answers.next() => answer,
                _ = &mut deadline => return Err("no answer from a meta leader".to_owned()),
            };
            let answer: serde_json::Value = serde_json::from_slice(&answer.payload).map_err(|e| e.to_string())?;
            let cluster = &answer["data"]["meta_cluster"];
            let Some(leader) = cluster["leader"].as_str() else {
                continue;
            };
            if answer["server"]["name"].as_str() != Some(leader) {
                continue;
            }
            let mut servers: Vec<(String, bool)> = cluster["replicas"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    let name = r["name"].as_str()?.to_owned();
                    // A vanished peer keeps `offline` unset: it is not current and not heard (`active` 0).
                    let active_ns = r["active"].as_u64().unwrap_or(0);
                    let heard = r["current"] == true || (active_ns > 0 && active_ns < 10_000_000_000);
                    Some((name, r["offline"] != true && heard))
                })
                .chain([(leader.to_owned(), true)])
                .collect();
            servers.sort();
            return Ok(servers);
        }
    })
}

/// Runs `work` with a client of machine `index`'s own site server (`tls://127.0.0.1:4222`, its certificate checked
/// against `ca`), from inside the machine, as `options` say.
fn with_machine_client<T, F, Fut>(
    lan: &Lan,
    index: usize,
    options: async_nats::ConnectOptions,
    ca: PathBuf,
    work: F,
) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(async_nats::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let asked = lan.run_inside(index, move || -> Result<T, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let client = options
                .add_root_certificates(ca)
                .require_tls(true)
                .connect("tls://127.0.0.1:4222")
                .await
                .map_err(|e| e.to_string())?;
            work(client).await
        })
    });
    asked.map_err(|e| e.to_string())?
}

/// Waits until `site`'s NATS (asked from machine `index`) is exactly `servers`, all online.
async fn site_nats_is(lan: &Lan, index: usize, dir: &Path, site: &str, servers: &[&str], within: Duration) {
    let want: Vec<(String, bool)> = servers.iter().map(|s| ((*s).to_owned(), true)).collect();
    eventually_with(&format!("the site's NATS servers are {servers:?}"), within, || async {
        let now = site_nats_servers(lan, index, dir, site)?;
        (now == want).then_some(()).ok_or(format!("{now:?}"))
    })
    .await;
}

#[actix_rt::test]
async fn two_machines_booted_at_the_same_instant_form_one_site_in_repeated_runs() {
    let _one_at_a_time = ONE_LAN_AT_A_TIME.lock().await;
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
    let _one_at_a_time = ONE_LAN_AT_A_TIME.lock().await;
    let dir = test_dir();
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
    let nodes = hub.four_with_three_control_planes("four").await;
    assert_eq!(
        nodes.iter().filter(|(_, role)| role == "worker").count(),
        1,
        "{nodes:?}"
    );
    // and the site's NATS is three servers, on the control-plane machines, the first machine's witness retired.
    let control_planes: Vec<&str> = nodes
        .iter()
        .filter(|(_, role)| role == "control-plane")
        .map(|(id, _)| id.as_str())
        .collect();
    site_nats_is(&lan, 0, dir.path(), "four", &control_planes, Duration::from_secs(90)).await;
    println!(
        "a three-server site NATS {:.1} s after the first boot",
        first_boot.elapsed().as_secs_f64()
    );
}

/// `EF_SITE_<site>` as a server of the site holds it: (first sequence, last sequence, messages), asked from inside
/// machine `index` as its site process (its nkey is in its data dir).
fn site_stream_state(lan: &Lan, index: usize, dir: &Path, id: &str, site: &str) -> Result<(u64, u64, u64), String> {
    let seed = std::fs::read_to_string(dir.join(id).join("site").join("site.nk")).map_err(|e| e.to_string())?;
    let ca = fleet_trust::SiteBundlePaths::new(dir.join(format!("{site}-bundle"))).site_ca();
    let stream = format!("EF_SITE_{site}");
    let process = async_nats::ConnectOptions::with_nkey(seed.trim().to_owned());
    with_machine_client(lan, index, process, ca, |client| async move {
        let js = async_nats::jetstream::new(client);
        let mut stream = js.get_stream(&stream).await.map_err(|e| e.to_string())?;
        let state = stream.info().await.map_err(|e| e.to_string())?.state.clone();
        Ok((state.first_sequence, state.last_sequence, state.messages))
    })
}

#[actix_rt::test]
async fn losing_the_machine_that_bootstrapped_the_site_loses_no_acknowledged_event_and_the_site_restores_three() {
    let _one_at_a_time = ONE_LAN_AT_A_TIME.lock().await;
    let dir = test_dir();
    let mut lan = Lan::build(4).expect("a LAN of four machines");
    let hub = LanHub::start(dir.path(), &lan).await;
    let image = hub.site_image(dir.path(), "lost").await;
    // Given four machines formed into one site with a three-server NATS (machines are lost 15 s after silence),
    let lost_after = [("EDGEFLEET_LOST_AFTER_S", "15")];
    let boot_lost = |lan: &Lan, index: usize, id: &str| boot_with(lan, index, dir.path(), &image, id, &lost_after);
    let mut machines = Vec::new();
    for (index, id) in ["m1", "m2", "m3", "m4"].iter().enumerate() {
        machines.push(boot_lost(&lan, index, id));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let nodes = hub.four_with_three_control_planes("lost").await;
    let control_planes: Vec<&str> = nodes
        .iter()
        .filter(|(_, role)| role == "control-plane")
        .map(|(id, _)| id.as_str())
        .collect();
    let spare = nodes
        .iter()
        .find(|(_, role)| role == "worker")
        .map(|(id, _)| id.clone())
        .expect("a worker");
    assert!(
        control_planes.contains(&"m1"),
        "the first machine is a control-plane member: {nodes:?}"
    );
    site_nats_is(&lan, 1, dir.path(), "lost", &control_planes, Duration::from_secs(90)).await;
    let mut survivors: Vec<&str> = control_planes.iter().copied().filter(|id| *id != "m1").collect();
    survivors.push(&spare);
    survivors.sort();
    let before = eventually_with("the site stream read from m2", Duration::from_secs(30), || async {
        site_stream_state(&lan, 1, dir.path(), "m2", "lost")
    })
    .await;
    assert_eq!(
        (before.0, before.2),
        (1, before.1),
        "no gap before the loss: {before:?}"
    );

    // When the machine that bootstrapped the site loses power,
    lan.power_off(0).expect("power off m1");
    let lost_at = std::time::Instant::now();

    // then the others keep the site: the spare worker takes m1's place in the cluster and in the site's NATS,
    site_nats_is(&lan, 1, dir.path(), "lost", &survivors, Duration::from_secs(120)).await;
    println!(
        "three control-plane members and a three-server NATS again {:.1} s after the loss",
        lost_at.elapsed().as_secs_f64()
    );
    // every event acknowledged before the loss is still there, and the stream kept growing without a gap,
    let after = site_stream_state(&lan, 1, dir.path(), "m2", "lost").expect("the site stream after the loss");
    assert_eq!(after.0, 1, "{before:?} → {after:?}");
    assert!(after.1 > before.1, "the site kept writing: {before:?} → {after:?}");
    assert_eq!(after.2, after.1, "no gap: {after:?}");
    // a fifth machine booted from the same image registers and joins as the spare worker,
    let fifth = lan.add_machine().expect("a fifth machine");
    machines.push(boot_lost(&lan, fifth, "m5"));
    // and the hub, through a leaf link from a surviving server, sees the survivors heartbeating and the newcomer.
    let survivors = &survivors;
    let nodes = eventually_with(
        "the hub sees the site after the loss",
        Duration::from_secs(120),
        || async {
            let page = hub.hub.api_with("nodes.list", serde_json::json!({"limit": 1000})).await;
            let nodes: Vec<serde_json::Value> = page
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|n| n["site"] == "lost")
                .collect();
            let role = |id: &str| {
                nodes
                    .iter()
                    .find(|n| n["id"] == id)
                    .map(|n| (n["role"].as_str().unwrap_or("-").to_owned(), n["silent"] == true))
            };
            let live_cp = survivors
                .iter()
                .all(|id| role(id) == Some(("control-plane".to_owned(), false)));
            let spare = role("m5") == Some(("worker".to_owned(), false));
            (live_cp && spare).then_some(nodes.clone()).ok_or(format!(
                "{:?}",
                nodes
                    .iter()
                    .map(|n| (&n["id"], &n["role"], &n["silent"]))
                    .collect::<Vec<_>>()
            ))
        },
    )
    .await;
    let m1 = nodes.iter().find(|n| n["id"] == "m1").expect("m1 is still in the log");
    assert_ne!(
        m1["role"], "control-plane",
        "the lost machine left the control plane: {m1}"
    );
    println!(
        "the hub sees {survivors:?} as control plane and m5 as worker {:.1} s after the loss",
        lost_at.elapsed().as_secs_f64()
    );
}
