//! A small fleet of stores for rollout and restart tests: a hub, sites with two agents each, profile
//! `edge-stack@1` (OS 2026.11) published and cluster `main` (label tier=store) ready on it at every site.

use super::cli::{assign, create_cluster, ok, try_json as json};
use super::process::EdgefleetProcess;
use super::{agent_with_env, eventually, Hub, Site};
use std::path::Path;
use std::time::Duration;

pub fn image(seed: u8) -> Vec<u8> {
    (0..2 * 1024 * 1024u32)
        .map(|i| (i as u8).wrapping_mul(17).wrapping_add(seed))
        .collect()
}

pub fn publish(hub: &Hub, dir: &Path, os_version: &str, seed: u8) {
    let file = dir.join(format!("os-{os_version}.img"));
    std::fs::write(&file, image(seed)).expect("image");
    let sha = ok(
        hub,
        &[
            "images",
            "put",
            "edge-os",
            os_version,
            "-f",
            &file.display().to_string(),
        ],
    )
    .trim()
    .to_string();
    let manifest = format!(
        "kind: Profile\nmetadata: {{name: edge-stack}}\nspec:\n  os: {{image: edge-os, version: \"{os_version}\", sha256: {sha}}}\n  \
         k8s: {{distro: k3s, version: v1.31.4+k3s1}}\n  cni: {{name: cilium, chart: oci://charts/cilium, version: 1.16.5, values: ''}}\n  \
         csi: null\n  addons: []\n  apps: []\n"
    );
    let path = dir.join(format!("profile-{os_version}.yaml"));
    std::fs::write(&path, manifest).expect("manifest");
    ok(hub, &["apply", "-f", &path.display().to_string()]);
}

pub fn cluster_on(hub: &Hub, site: &str, profile: &str) -> bool {
    json(hub, &["clusters", "get", "main", "--site", site])
        .is_some_and(|c| c["state"] == "ready" && c["running_profile"] == profile)
}

/// A hub, `site_ids` with two agents each, profile @1 published and cluster `main` (label tier=store) ready at
/// every site.
pub async fn fleet_on_v1(dir: &Path, site_ids: &[&str]) -> (Hub, Vec<Site>, Vec<EdgefleetProcess>) {
    fleet_on_v1_with(dir, site_ids, &[], &[]).await
}

/// As [`fleet_on_v1`], with extra environment for the hub and for the sites (fault points).
pub async fn fleet_on_v1_with(
    dir: &Path,
    site_ids: &[&str],
    hub_env: &[(&str, String)],
    site_env: &[(&str, String)],
) -> (Hub, Vec<Site>, Vec<EdgefleetProcess>) {
    let hub = Hub::start_with_env(dir, hub_env).await;
    let mut sites = Vec::new();
    for id in site_ids {
        sites.push(Site::start_with_image(dir, &hub, id, site_env, None).await);
    }
    let agents = ready_on_v1(&hub, dir, &sites).await;
    (hub, sites, agents)
}

/// As [`fleet_on_v1`], with extra environment for every agent (e.g. a shorter telemetry interval).
pub async fn fleet_on_v1_with_agents(
    dir: &Path,
    site_ids: &[&str],
    agent_env: &[(&str, String)],
) -> (Hub, Vec<Site>, Vec<EdgefleetProcess>) {
    let hub = Hub::start(dir).await;
    let mut sites = Vec::new();
    for id in site_ids {
        sites.push(Site::start_with_image(dir, &hub, id, &[], None).await);
    }
    let agents = ready_on_v1_with(&hub, dir, &sites, agent_env).await;
    (hub, sites, agents)
}

/// Two agents at each of `sites`, profile @1 published and cluster `main` (label tier=store) ready on it at every
/// site; returns the agents.
pub async fn ready_on_v1(hub: &Hub, dir: &Path, sites: &[Site]) -> Vec<EdgefleetProcess> {
    ready_on_v1_with(hub, dir, sites, &[]).await
}

/// As [`ready_on_v1`], with extra environment for every agent.
pub async fn ready_on_v1_with(
    hub: &Hub,
    dir: &Path,
    sites: &[Site],
    agent_env: &[(&str, String)],
) -> Vec<EdgefleetProcess> {
    let site_ids: Vec<String> = sites.iter().map(|s| s.id.to_string()).collect();
    let agents: Vec<_> = sites
        .iter()
        .flat_map(|s| {
            [
                agent_with_env(dir, s, "n1", agent_env),
                agent_with_env(dir, s, "n2", agent_env),
            ]
        })
        .collect();
    publish(hub, dir, "2026.11", 1);
    let nodes = site_ids.len() * 2;
    eventually("every node unassigned", Duration::from_secs(60), || async {
        (json(hub, &["nodes", "ls", "--state", "unassigned"])?.as_array()?.len() == nodes).then_some(())
    })
    .await;
    for site in &site_ids {
        create_cluster(hub, "main", site, "edge-stack@1", &["tier=store"]);
        assign(hub, "n1", Some(site), "main", "control-plane");
        assign(hub, "n2", Some(site), "main", "worker");
    }
    for site in &site_ids {
        eventually(&format!("{site}/main ready on @1"), Duration::from_secs(90), || async {
            cluster_on(hub, site, "edge-stack@1").then_some(())
        })
        .await;
    }
    agents
}

/// Waits until rollout `id` is complete and returns its view.
pub async fn rollout_complete(hub: &Hub, id: &str) -> serde_json::Value {
    eventually(&format!("rollout {id} complete"), Duration::from_secs(180), || async {
        let r = json(hub, &["rollouts", "get", id])?;
        (r["state"] == "complete").then_some(r)
    })
    .await
}

/// Waits until `site`'s cluster `main` is ready on `profile`.
pub async fn wait_cluster_on(hub: &Hub, site: &str, profile: &str, timeout: Duration) {
    eventually(&format!("{site}/main ready on {profile}"), timeout, || async {
        cluster_on(hub, site, profile).then_some(())
    })
    .await;
}
