//! Given a cluster applied at profile v1, when the profile moves to v2 (Cilium's version changed, fluent-bit
//! dropped, a kiosk app added, k3s v1.31 → v1.32), then each node writes only what changed, removes the dropped
//! release's manifest, restarts k3s only if its config or command changed — and the k3s the v1 image ships refuses
//! v2, because k3s does not upgrade itself from its config.

mod k3s_support;

use k3s_render::{apply, check_version, load_applied, plan_apply, render, K3sProfile, MANIFESTS_DIR};
use k3s_support::*;
use std::path::Path;

fn v1() -> K3sProfile {
    K3sProfile {
        kubernetes: k3s("v1.31.4+k3s1"),
        cni: cilium("1.16.5"),
        releases: vec![
            release(
                "longhorn",
                "edge/longhorn",
                "1.7.2",
                "persistence:\n  defaultClassReplicaCount: 2\n",
            ),
            release("fluent-bit", "oci://registry.example/charts/fluent-bit", "0.47.10", ""),
            pos("2.3.0"),
        ],
    }
}

fn v2() -> K3sProfile {
    K3sProfile {
        kubernetes: k3s("v1.32.1+k3s1"),
        cni: cilium("1.16.6"),
        releases: vec![
            release(
                "longhorn",
                "edge/longhorn",
                "1.7.2",
                "persistence:\n  defaultClassReplicaCount: 2\n",
            ),
            pos("2.3.0"),
            release(
                "kiosk",
                "https://charts.kiosk.example/kiosk-1.0.0.tgz",
                "1.0.0",
                "screen: portrait\n",
            ),
        ],
    }
}

#[test]
fn given_v1_applied_when_the_profile_moves_to_v2_then_changed_charts_are_written_and_k3s_keeps_running() {
    let server_v1 = render(&first_server(v1())).expect("v1 renders");
    let server_v2 = render(&first_server(v2())).expect("v2 renders");
    let worker_v1 = render(&worker(v1())).expect("v1 renders");
    let worker_v2 = render(&worker(v2())).expect("v2 renders");
    let refusal = check_version("v1.31.4+k3s1", &v2().kubernetes).expect_err("v1's k3s does not run v2");

    let report = format!(
        "first server, v1 → v2:\n{}\nworker, v1 → v2:\n{}\nk3s v1.31.4+k3s1 from the v1 image, asked for v2:\n{refusal}\n\n\
         the kiosk manifest v2 adds:\n{}",
        plan_apply(Some(&server_v1), &server_v2),
        plan_apply(Some(&worker_v1), &worker_v2),
        server_v2.files[&Path::new(MANIFESTS_DIR).join("edgefleet-kiosk.yaml")],
    );
    insta::assert_snapshot!("upgrade_v1_to_v2", report);
}

#[test]
fn given_v1_on_disk_when_v2_is_applied_then_the_tree_holds_exactly_v2() {
    let root = tempfile::tempdir().expect("tempdir");
    let v1_rendered = render(&first_server(v1())).expect("v1 renders");
    apply(root.path(), None, &v1_rendered).expect("v1 applies");
    let manifests = root.path().join(MANIFESTS_DIR.trim_start_matches('/'));
    assert!(manifests.join("edgefleet-fluent-bit.yaml").exists());

    let previous = load_applied(root.path())
        .expect("record reads")
        .expect("v1 was recorded");
    let v2_rendered = render(&first_server(v2())).expect("v2 renders");
    let plan = apply(root.path(), Some(&previous), &v2_rendered).expect("v2 applies");

    assert!(!plan.restart);
    assert!(
        !manifests.join("edgefleet-fluent-bit.yaml").exists(),
        "the dropped release's manifest is removed"
    );
    for (path, contents) in &v2_rendered.files {
        let on_disk = std::fs::read_to_string(root.path().join(path.strip_prefix("/").unwrap())).expect("written");
        assert_eq!(&on_disk, contents, "{}", path.display());
    }
    assert_eq!(load_applied(root.path()).expect("record reads"), Some(v2_rendered));
}

#[test]
fn given_flannel_when_the_profile_switches_the_cni_to_cilium_then_k3s_restarts() {
    let mut with_flannel = v1();
    with_flannel.cni = release("flannel", "https://charts.example/flannel-v0.26.1.tgz", "v0.26.1", "");
    let before = render(&first_server(with_flannel)).expect("renders");
    let after = render(&first_server(v1())).expect("renders");
    let plan = plan_apply(Some(&before), &after);
    assert!(plan.restart, "flannel-backend changed: {plan}");
    assert!(plan
        .write
        .contains(&Path::new(MANIFESTS_DIR).join("edgefleet-cilium.yaml")));
}

#[test]
fn given_a_node_when_its_labels_change_then_k3s_restarts_to_take_them() {
    let before = render(&worker(v1())).expect("renders");
    let mut relabelled = worker(v1());
    relabelled.node_labels.insert("edgefleet.io/till".into(), "3".into());
    let after = render(&relabelled).expect("renders");
    let plan = plan_apply(Some(&before), &after);
    assert!(plan.restart);
    assert_eq!(plan.write, [Path::new(k3s_render::CONFIG_PATH)]);
}
