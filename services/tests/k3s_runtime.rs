//! The k3s runtime on real processes (`site --runtime k3s`): the site assigns each member's Kubernetes and the apps
//! placed on its cluster, every agent renders and writes k3s' files on its machine and runs k3s, and the site marks
//! nodes ready and apps installed from what agents report.
//!
//! k3s itself cannot run on this machine. Each agent's `--k3s-binary` is a stand-in executable written by the test:
//! it answers `--version` the way k3s does and otherwise stays up, recording its command line and pid. What runs for
//! real is everything up to k3s itself: the site's assignments and who initialises the cluster, the agents' rendered
//! files under their `--k3s-root`, starting and stopping the process, the reports, the nodes' states at the hub.

mod common;

use common::cli::{assign, create_cluster, ok, try_json as json};
use common::process::{spawn, EdgefleetProcess};
use common::store_fleet::{cluster_on, publish};
use common::{agent_args, eventually, test_dir, Hub, Site};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A stand-in for the k3s binary reporting `version`.
fn k3s_stand_in(dir: &Path, version: &str) -> PathBuf {
    let path = dir.join(format!("k3s-{version}"));
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1\" = --version ]; then echo 'k3s version {version} (0123abcd)'; echo 'go version go1.22.9'; exit 0; fi\n\
         echo \"$*\" > \"$EDGEFLEET_K3S_ROOT/k3s-command\"\n\
         echo $$ > \"$EDGEFLEET_K3S_ROOT/k3s-pid\"\n\
         exec sleep 600\n"
    );
    std::fs::write(&path, script).expect("stand-in");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("executable");
    path
}

/// `edgefleet agent` for `node`, running k3s from `binary` with its files under `<dir>/root-<node>`.
fn k3s_agent(dir: &Path, site: &Site, node: &str, binary: &Path) -> (EdgefleetProcess, PathBuf) {
    let root = dir.join(format!("root-{node}"));
    std::fs::create_dir_all(&root).expect("root");
    let mut args = agent_args(dir, site, node);
    args.extend(["--address".into(), "127.0.0.1".into()]);
    let env = [
        ("EDGEFLEET_K3S_BINARY", binary.display().to_string()),
        ("EDGEFLEET_K3S_ROOT", root.display().to_string()),
    ];
    (spawn(&format!("agent-{node}"), dir, &args, &env), root)
}

fn read(root: &Path, path: &str) -> Option<String> {
    std::fs::read_to_string(root.join(path.trim_start_matches('/'))).ok()
}

fn pid_alive(root: &Path) -> Option<bool> {
    let pid = read(root, "k3s-pid")?;
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).ok();
    // A reaped process is gone; a zombie (state Z) has exited.
    Some(stat.is_some_and(|s| !s.split(") ").nth(1).is_some_and(|rest| rest.starts_with('Z'))))
}

#[tokio::test]
async fn a_k3s_site_initialises_on_its_first_server_joins_a_worker_to_it_refuses_a_wrong_k3s_and_stops_k3s_on_leaving()
{
    let dir = test_dir();
    let hub = Hub::start(dir.path()).await;
    let site = Site::start_with_image(dir.path(), &hub, "k1", &[("EDGEFLEET_RUNTIME", "k3s".into())], None).await;
    let k3s = k3s_stand_in(dir.path(), "v1.31.4+k3s1");
    let (_n1, root1) = k3s_agent(dir.path(), &site, "n1", &k3s);
    let (_n2, root2) = k3s_agent(dir.path(), &site, "n2", &k3s);
    publish(&hub, dir.path(), "2026.11", 1); // edge-stack@1: k3s v1.31.4+k3s1, cilium
    eventually("both nodes unassigned", Duration::from_secs(60), || async {
        (json(&hub, &["nodes", "ls", "--state", "unassigned"])?.as_array()?.len() == 2).then_some(())
    })
    .await;

    create_cluster(&hub, "main", "k1", "edge-stack@1", &[]);
    assign(&hub, "n1", Some("k1"), "main", "control-plane");
    assign(&hub, "n2", Some("k1"), "main", "worker");
    eventually("main ready on edge-stack@1", Duration::from_secs(90), || async {
        cluster_on(&hub, "k1", "edge-stack@1").then_some(())
    })
    .await;

    // n1 initialised the cluster as its first server, with the profile's CNI as a HelmChart.
    let config1 = read(&root1, "/etc/rancher/k3s/config.yaml").expect("n1's config.yaml");
    assert!(
        config1.contains("node-name: \"n1\"") && config1.contains("cluster-init: true"),
        "{config1}"
    );
    assert!(config1.contains("node-ip: \"127.0.0.1\""), "{config1}");
    let cni = read(&root1, "/var/lib/rancher/k3s/server/manifests/edgefleet-cilium.yaml").expect("cilium chart");
    assert!(cni.contains("kind: \"HelmChart\""), "{cni}");
    assert_eq!(
        read(&root1, "k3s-command").as_deref().map(str::trim),
        Some("server --config /etc/rancher/k3s/config.yaml")
    );
    // n2 joined n1's server as an agent, with no manifests of its own.
    let config2 = read(&root2, "/etc/rancher/k3s/config.yaml").expect("n2's config.yaml");
    assert!(config2.contains("server: \"https://127.0.0.1:6443\""), "{config2}");
    assert!(!config2.contains("cluster-init"), "{config2}");
    assert!(!root2.join("var/lib/rancher/k3s/server/manifests").exists());
    assert_eq!(
        read(&root2, "k3s-command").as_deref().map(str::trim),
        Some("agent --config /etc/rancher/k3s/config.yaml")
    );
    // Both hold the same cluster token, derived on each machine; it is not the site's join token.
    let token1 = read(&root1, "/var/lib/edgefleet/k3s/token").expect("n1's token");
    assert_eq!(Some(&token1), read(&root2, "/var/lib/edgefleet/k3s/token").as_ref());
    assert_eq!(token1.len(), 64);
    assert_ne!(
        token1.trim(),
        std::fs::read_to_string(site.join_token()).expect("join token").trim()
    );
    assert_eq!(pid_alive(&root2), Some(true));

    // An app placed on the cluster is rendered on its server (not on the worker), and the site reports it running.
    let app = dir.path().join("app.yaml");
    std::fs::write(
        &app,
        "kind: App\nmetadata: {name: kiosk}\nspec:\n  helm: {chart: oci://registry.example/charts/kiosk, \
         version: 1.4.0, namespace: front-of-house}\n---\nkind: Placement\nmetadata: {name: kiosk}\nspec:\n  \
         app: kiosk@1\n",
    )
    .expect("manifest");
    ok(&hub, &["apply", "-f", &app.display().to_string()]);
    let chart = "/var/lib/rancher/k3s/server/manifests/edgefleet-app-kiosk.yaml";
    eventually("kiosk installed on main", Duration::from_secs(60), || async {
        let main = json(&hub, &["clusters", "get", "main", "--site", "k1"])?;
        let healthy = main["app_status"]
            .as_array()?
            .iter()
            .any(|a| a["app"] == "kiosk" && a["installed"] == "kiosk@1" && a["healthy"] == true);
        (healthy && read(&root1, chart).is_some()).then_some(())
    })
    .await;
    let kiosk = read(&root1, chart).expect("kiosk chart");
    assert!(kiosk.contains("targetNamespace: \"front-of-house\""), "{kiosk}");
    assert!(read(&root2, chart).is_none(), "workers apply no manifests");

    // A machine whose OS image ships another k3s is refused with the reason, not rendered.
    let old = k3s_stand_in(dir.path(), "v1.30.2+k3s1");
    let (_n3, root3) = k3s_agent(dir.path(), &site, "n3", &old);
    eventually("n3 unassigned", Duration::from_secs(60), || async {
        (json(&hub, &["nodes", "get", "n3", "--site", "k1"])?["state"] == "unassigned").then_some(())
    })
    .await;
    assign(&hub, "n3", Some("k1"), "main", "worker");
    let failed = eventually("n3 failed", Duration::from_secs(60), || async {
        let n3 = json(&hub, &["nodes", "get", "n3", "--site", "k1"])?;
        (n3["state"] == "failed").then_some(n3)
    })
    .await;
    let reason = failed["failure"].as_str().unwrap_or_default();
    assert!(
        reason.contains("asks for k3s v1.31.4+k3s1 but the OS image ships k3s v1.30.2+k3s1"),
        "{reason}"
    );
    assert!(
        read(&root3, "/etc/rancher/k3s/config.yaml").is_none(),
        "nothing rendered on n3"
    );

    // n2 leaves its cluster: its k3s is stopped and the files edgefleet wrote go.
    ok(&hub, &["nodes", "unassign", "n2", "--site", "k1"]);
    eventually("n2 unassigned", Duration::from_secs(60), || async {
        let n2 = json(&hub, &["nodes", "get", "n2", "--site", "k1"])?;
        (n2["state"] == "unassigned" && read(&root2, "/etc/rancher/k3s/config.yaml").is_none()).then_some(())
    })
    .await;
    assert_eq!(pid_alive(&root2), Some(false), "n2's k3s was stopped");
    assert!(read(&root2, "/var/lib/edgefleet/k3s/token").is_none());
    assert_eq!(pid_alive(&root1), Some(true), "n1's k3s keeps running");
}
