//! Cluster OS updates on real disk images: a profile change moves a cluster node by node to a new OS image
//! (A/B slots), rolls the updated nodes back when a health check fails, and refuses a corrupt image before
//! anything is written.

mod common;

use common::cli::{assign, create_cluster, json, ok};
use common::{agent_with_env, eventually, Hub, Site};
use node_agent::{ensure_disk_image, BootSlots, DiskLayout, Slot};
use std::path::Path;
use std::time::Duration;

/// A deterministic "OS image" of a few MiB.
fn image(seed: u8) -> Vec<u8> {
    (0..4 * 1024 * 1024u32)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn profile_manifest(os_version: &str, sha256: &str) -> String {
    format!(
        "kind: Profile\nmetadata: {{name: edge-stack}}\nspec:\n  os: {{image: edge-os, version: \"{os_version}\", sha256: {sha256}}}\n  \
         k8s: {{distro: k3s, version: v1.31.4+k3s1}}\n  cni: {{name: cilium, chart: oci://charts/cilium, version: 1.16.5, values: ''}}\n  \
         csi: null\n  addons: []\n  apps: [{{name: pos, chart: oci://charts/pos, version: \"{os_version}\", values: ''}}]\n"
    )
}

fn apply_profile(hub: &Hub, dir: &Path, os_version: &str, sha256: &str) {
    let path = dir.join(format!("profile-{os_version}.yaml"));
    std::fs::write(&path, profile_manifest(os_version, sha256)).expect("manifest");
    ok(hub, &["apply", "-f", &path.display().to_string()]);
}

fn put_image(hub: &Hub, dir: &Path, version: &str, bytes: &[u8]) -> String {
    put_signed_image(hub, dir, version, bytes, None)
}

fn put_signed_image(hub: &Hub, dir: &Path, version: &str, bytes: &[u8], key_file: Option<&Path>) -> String {
    let path = dir.join(format!("edge-os-{version}.img"));
    std::fs::write(&path, bytes).expect("image file");
    let path = path.display().to_string();
    let mut args = vec!["images", "put", "edge-os", version, "-f", &path];
    let key = key_file.map(|k| k.display().to_string());
    if let Some(key) = &key {
        args.extend(["--signing-key", key]);
    }
    ok(hub, &args).trim().to_string()
}

fn disk(dir: &Path, node: &str) -> std::path::PathBuf {
    dir.join(format!("store-1-{node}.img"))
}

fn active_slot(dir: &Path, node: &str) -> Option<Slot> {
    let image = ensure_disk_image(&disk(dir, node), &DiskLayout::default()).ok()?;
    BootSlots::load(&image).ok()?.active()
}

/// Hub, site `store-1`, three agents, profile @1 and cluster `main` ready on it; DATA of each disk holds a pattern.
async fn ready_cluster(
    dir: &Path,
    unhealthy_on_n2: Option<&str>,
) -> (Hub, Site, Vec<common::process::EdgefleetProcess>, String) {
    ready_cluster_with(dir, unhealthy_on_n2, None).await
}

/// As [`ready_cluster`], with agents that accept only images signed by `image_key` when given.
async fn ready_cluster_with(
    dir: &Path,
    unhealthy_on_n2: Option<&str>,
    image_key: Option<&str>,
) -> (Hub, Site, Vec<common::process::EdgefleetProcess>, String) {
    let hub = Hub::start(dir).await;
    let site = Site::start_with_image(dir, &hub, "store-1", &[], None).await;
    let agents = ["n1", "n2", "n3"]
        .iter()
        .map(|n| {
            let mut env = match (n, unhealthy_on_n2) {
                (&"n2", Some(version)) => vec![("EDGEFLEET_SIMULATE_UNHEALTHY", version.to_string())],
                _ => vec![],
            };
            env.extend(image_key.map(|key| ("EDGEFLEET_IMAGE_KEY", key.to_string())));
            agent_with_env(dir, &site, n, &env)
        })
        .collect();
    let v1 = put_image(&hub, dir, "2026.11", &image(1));
    apply_profile(&hub, dir, "2026.11", &v1);
    eventually("three unassigned nodes", Duration::from_secs(60), || async {
        (json(&hub, &["nodes", "ls", "--state", "unassigned"]).as_array()?.len() == 3).then_some(())
    })
    .await;
    create_cluster(&hub, "main", "store-1", "edge-stack@1", &[]);
    for (node, role) in [("n1", "control-plane"), ("n2", "worker"), ("n3", "worker")] {
        assign(&hub, node, None, "main", role);
    }
    eventually("cluster main ready on @1", Duration::from_secs(90), || async {
        (json(&hub, &["clusters", "get", "main"])["state"] == "ready").then_some(())
    })
    .await;
    for node in ["n1", "n2", "n3"] {
        let image = ensure_disk_image(&disk(dir, node), &DiskLayout::default()).expect("disk");
        image
            .write_partition(node_agent::DATA, 0, b"customer data that no update may touch")
            .expect("DATA");
    }
    (hub, site, agents, v1)
}

fn data_untouched(dir: &Path, node: &str) -> bool {
    let image = ensure_disk_image(&disk(dir, node), &DiskLayout::default()).expect("disk");
    image
        .read_partition(node_agent::DATA)
        .expect("DATA")
        .starts_with(b"customer data that no update may touch")
}

#[actix_rt::test]
async fn a_profile_change_updates_the_cluster_node_by_node_on_the_b_slots() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site, _agents, _) = ready_cluster(dir.path(), None).await;
    let v2_bytes = image(2);
    let v2 = put_image(&hub, dir.path(), "2026.12", &v2_bytes);
    apply_profile(&hub, dir.path(), "2026.12", &v2);
    ok(&hub, &["clusters", "upgrade", "main", "--profile", "edge-stack@2"]);

    let cluster = eventually("cluster main ready on @2", Duration::from_secs(120), || async {
        let c = json(&hub, &["clusters", "get", "main"]);
        (c["state"] == "ready" && c["running_profile"] == "edge-stack@2").then_some(c)
    })
    .await;
    assert_eq!(cluster["members"].as_array().map(Vec::len), Some(3));
    for node in ["n1", "n2", "n3"] {
        assert_eq!(active_slot(dir.path(), node), Some(Slot::B), "{node} boots ROOT-B");
        let image = ensure_disk_image(&disk(dir.path(), node), &DiskLayout::default()).expect("disk");
        let root_b = image.read_partition(node_agent::ROOT_B).expect("ROOT-B");
        assert_eq!(
            &root_b[..v2_bytes.len()],
            v2_bytes.as_slice(),
            "{node}: ROOT-B holds the new image"
        );
        assert!(data_untouched(dir.path(), node), "{node}: DATA unchanged");
    }
    let history = ok(&hub, &["history", "node/n3"]);
    assert!(
        history.contains("NodeOsUpdateStarted") && history.contains("NodeOsUpdated"),
        "{history}"
    );
}

#[actix_rt::test]
async fn a_failed_health_check_rolls_the_updated_nodes_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site, _agents, _) = ready_cluster(dir.path(), Some("2026.12")).await;
    let v2 = put_image(&hub, dir.path(), "2026.12", &image(2));
    apply_profile(&hub, dir.path(), "2026.12", &v2);
    ok(&hub, &["clusters", "upgrade", "main", "--profile", "edge-stack@2"]);

    let cluster = eventually(
        "cluster main degraded after the rollback",
        Duration::from_secs(120),
        || async {
            let c = json(&hub, &["clusters", "get", "main"]);
            c["state"].as_str()?.starts_with("degraded").then_some(c)
        },
    )
    .await;
    assert_eq!(
        cluster["running_profile"], "edge-stack@1",
        "the cluster still runs the old profile"
    );
    assert!(
        cluster["state"].as_str().unwrap_or("").contains("health check failed"),
        "{cluster}"
    );
    let n1 = json(&hub, &["get", "node/n1"]);
    assert_eq!(n1["os_version"], "2026.11", "n1 updated first, then rolled back");
    for node in ["n1", "n2", "n3"] {
        assert!(data_untouched(dir.path(), node), "{node}: DATA unchanged");
    }
    assert_eq!(
        active_slot(dir.path(), "n2"),
        Some(Slot::A),
        "n2 fell back to its old slot"
    );
}

#[actix_rt::test]
async fn a_corrupt_image_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (hub, _site, _agents, _) = ready_cluster(dir.path(), None).await;
    put_image(&hub, dir.path(), "2026.12", &image(2));
    // The profile names a digest the stored bytes do not have (a corrupted or tampered image).
    apply_profile(&hub, dir.path(), "2026.12", &"0".repeat(64));
    ok(&hub, &["clusters", "upgrade", "main", "--profile", "edge-stack@2"]);

    let cluster = eventually("the update refused", Duration::from_secs(90), || async {
        let c = json(&hub, &["clusters", "get", "main"]);
        c["state"].as_str()?.starts_with("degraded").then_some(c)
    })
    .await;
    assert!(
        cluster["state"].as_str().unwrap_or("").contains("sha256 mismatch"),
        "{cluster}"
    );
    for node in ["n1", "n2", "n3"] {
        assert_eq!(
            active_slot(dir.path(), node),
            Some(Slot::A),
            "{node} still boots its old slot"
        );
        assert!(data_untouched(dir.path(), node));
    }
    assert_eq!(cluster["running_profile"], "edge-stack@1");
}

#[actix_rt::test]
async fn agents_with_an_image_key_accept_only_signed_images() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("signing.key");
    let public = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(["images", "keygen", "-f", &key_file.display().to_string()])
        .env_remove("EDGEFLEET_HUB")
        .output()
        .expect("keygen");
    let public = String::from_utf8_lossy(&public.stdout).trim().to_string();
    assert_eq!(public.len(), 64, "a hex public key");
    let (hub, _site, _agents, _) = ready_cluster_with(dir.path(), None, Some(&public)).await;

    let unsigned = put_image(&hub, dir.path(), "2026.12", &image(2));
    apply_profile(&hub, dir.path(), "2026.12", &unsigned);
    ok(&hub, &["clusters", "upgrade", "main", "--profile", "edge-stack@2"]);
    let refused = eventually("the unsigned image refused", Duration::from_secs(90), || async {
        let c = json(&hub, &["clusters", "get", "main"]);
        c["state"].as_str()?.contains("not signed").then_some(c)
    })
    .await;
    assert_eq!(refused["running_profile"], "edge-stack@1");
    assert_eq!(active_slot(dir.path(), "n1"), Some(Slot::A), "nothing was written");

    let signed = put_signed_image(&hub, dir.path(), "2026.13", &image(3), Some(&key_file));
    apply_profile(&hub, dir.path(), "2026.13", &signed);
    ok(&hub, &["clusters", "upgrade", "main", "--profile", "edge-stack@3"]);
    eventually(
        "the signed image installed everywhere",
        Duration::from_secs(120),
        || async {
            let c = json(&hub, &["clusters", "get", "main"]);
            (c["state"] == "ready" && c["running_profile"] == "edge-stack@3").then_some(())
        },
    )
    .await;
    for node in ["n1", "n2", "n3"] {
        assert_eq!(
            active_slot(dir.path(), node),
            Some(Slot::B),
            "{node} runs the signed image"
        );
    }
}
