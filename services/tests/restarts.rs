//! Services that survive any restart: a hub killed between releasing a wave and writing its clusters' new
//! profiles, a site killed right after handing out an OS update, a second hub started on a live data dir, and a
//! supervisor that restarts its nats-server from its own settings. Each crash is a fault point
//! (`EDGEFLEET_FAULT`): the process SIGKILLs itself at exactly that step, and the restarted process finishes the
//! job by planning again from its log.

mod common;

use common::cli::{ok, rollout_args, run, try_json};
use common::store_fleet::{fleet_on_v1_with, publish, rollout_complete, wait_cluster_on};
use common::{eventually, Hub};
use std::time::Duration;

fn fault(point: &str) -> [(&'static str, String); 1] {
    [("EDGEFLEET_FAULT", point.to_string())]
}

fn died_at(process: &common::process::EdgefleetProcess, point: &str) {
    let log = process.log_text();
    assert!(
        log.contains(&format!("fault point {point} reached")),
        "died elsewhere:\n{log}"
    );
}

/// Defect 2: the orchestrator appended `WaveReleased`, then died before any cluster's `ClusterProfileChanged`.
/// The restarted hub derives the missing intents from the released wave and the rollout completes.
#[actix_rt::test]
async fn a_hub_killed_right_after_releasing_a_wave_finishes_it_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut hub, _sites, _agents) = fleet_on_v1_with(dir.path(), &["w1"], &fault("hub-after-wave-release"), &[]).await;
    publish(&hub, dir.path(), "2026.12", 2);
    // The hub may die before this request's answer leaves it; what matters is what the log holds.
    run(&hub, &rollout_args("r1", "edge-stack@2", "100%"));
    hub.wait_exit(Duration::from_secs(30)).await;
    assert!(
        hub.process
            .log_text()
            .contains("fault point hub-after-wave-release reached"),
        "the hub died at the fault point"
    );

    hub.restart(dir.path()).await;
    wait_cluster_on(&hub, "w1", "edge-stack@2", Duration::from_secs(120)).await;
    let done = rollout_complete(&hub, "r1").await;
    assert_eq!(done["released_waves"], 1);
    let history = ok(&hub, &["history", "cluster/w1/main"]);
    assert_eq!(
        history.matches("ClusterProfileChanged").count(),
        1,
        "the missing intent was written once, by the restarted hub:\n{history}"
    );
}

/// Defect 3: the site recorded `NodeOsUpdateStarted` and died before the agent heard of it. Which image the node
/// must install is in the log, so the restarted site hands it out and the update completes.
#[actix_rt::test]
async fn a_site_killed_right_after_starting_an_os_update_finishes_it_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, mut sites, _agents) =
        fleet_on_v1_with(dir.path(), &["u1"], &[], &fault("site-after-os-update-started")).await;
    publish(&hub, dir.path(), "2026.12", 2);
    ok(
        &hub,
        &[
            "clusters",
            "upgrade",
            "main",
            "--site",
            "u1",
            "--profile",
            "edge-stack@2",
        ],
    );
    let site = &mut sites[0];
    site.wait_exit(Duration::from_secs(60)).await;
    died_at(&site.process, "site-after-os-update-started");

    site.restart(dir.path()).await;
    wait_cluster_on(&hub, "u1", "edge-stack@2", Duration::from_secs(180)).await;
    for node in ["n1", "n2"] {
        let view = try_json(&hub, &["nodes", "get", node, "--site", "u1"]).expect("node");
        assert_eq!(view["os_version"], "2026.12", "{node}: {view}");
        assert_eq!(view["os_slot"], "ROOT-B", "{node}: {view}");
    }
}

/// Defect 7: a second hub on a live data dir fails before touching anything there; the first hub's supervisor
/// restarts its nats-server from its own settings even when `nats.conf` on disk says otherwise.
#[actix_rt::test]
async fn a_second_hub_on_the_same_data_dir_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::start(dir.path()).await;
    let conf = hub.data_dir.join("nats").join("nats.conf");
    let before = std::fs::read_to_string(&conf).expect("nats.conf");

    let [client_port, leaf_port] = testkit::free_port::free_ports::<2>();
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(Hub::args(&hub.data_dir, client_port, leaf_port))
        .output()
        .expect("second hub runs");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is in use by process"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&conf).expect("nats.conf"),
        before,
        "the config is untouched"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", client_port)).is_err(),
        "no second nats-server on the live store"
    );

    // Whatever a config on disk says, the supervisor brings the server back on the hub's own ports.
    std::fs::write(
        &conf,
        before.replace(&hub.client_port.to_string(), &client_port.to_string()),
    )
    .expect("tamper with nats.conf");
    let pid = common::nats_pid(&hub.data_dir.join("nats"));
    common::process::kill9(pid);
    eventually("the hub API on its own port again", Duration::from_secs(30), || async {
        let options = common::creds_options(&hub.admin_creds(), &hub.ca()).await;
        let client = options.connect(hub.url()).await.ok()?;
        client
            .request("ef.api.v1.sites.list", "{}".into())
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    assert_ne!(
        common::nats_pid(&hub.data_dir.join("nats")),
        pid,
        "a new server process"
    );
}
