//! Given a node's role in its cluster and the store profile (Cilium + the point-of-sale app), when it is rendered,
//! then k3s gets the config, manifests and command line its role needs. Pinned by insta; each snapshot was read
//! against k3s' config keys and helm-controller's HelmChart spec.

mod k3s_support;

use k3s_render::{render, CONFIG_PATH, MANIFESTS_DIR};
use k3s_support::*;
use std::path::Path;

#[test]
fn given_the_first_node_with_cilium_and_an_app_then_it_inits_the_cluster_and_carries_both_charts() {
    let rendered = render(&first_server(store_profile())).expect("renders");
    insta::assert_snapshot!("first_server", rendered.to_string());
}

#[test]
fn given_a_joining_control_plane_node_then_it_joins_the_first_and_carries_the_same_charts() {
    let first = render(&first_server(store_profile())).expect("renders");
    let joining = render(&joining_server(store_profile())).expect("renders");
    insta::assert_snapshot!("joining_server", joining.to_string());
    let manifests = |files: &std::collections::BTreeMap<std::path::PathBuf, String>| {
        files
            .iter()
            .filter(|(p, _)| p.starts_with(MANIFESTS_DIR))
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        manifests(&first.files),
        manifests(&joining.files),
        "every server applies the same manifests"
    );
}

#[test]
fn given_a_worker_then_it_runs_the_agent_with_no_manifests_and_no_server_flags() {
    let rendered = render(&worker(store_profile())).expect("renders");
    insta::assert_snapshot!("worker", rendered.to_string());
    assert_eq!(rendered.files.keys().collect::<Vec<_>>(), [Path::new(CONFIG_PATH)]);
}

#[test]
fn given_flannel_as_the_cni_then_k3s_keeps_its_own_and_no_flannel_chart_is_rendered() {
    let mut profile = store_profile();
    profile.cni = release("flannel", "https://charts.example/flannel-v0.26.1.tgz", "v0.26.1", "");
    let rendered = render(&first_server(profile)).expect("renders");
    let config = &rendered.files[Path::new(CONFIG_PATH)];
    assert!(!config.contains("flannel-backend"), "{config}");
    assert!(!config.contains("disable-network-policy"), "{config}");
    let manifests: Vec<_> = rendered.files.keys().filter(|p| p.starts_with(MANIFESTS_DIR)).collect();
    assert_eq!(
        manifests,
        [Path::new(MANIFESTS_DIR).join("edgefleet-pos.yaml").as_path()]
    );
}

#[test]
fn given_the_profile_layers_then_the_cni_stands_apart_and_the_rest_keep_their_order() {
    use events::profile::{OsImage, ProfileLayers};
    let layers = ProfileLayers {
        os: OsImage {
            image: "edge-os".into(),
            version: "7".into(),
            sha256: "00".into(),
        },
        k8s: k3s("v1.31.4+k3s1"),
        cni: cilium("1.16.5"),
        csi: Some(release("longhorn", "edge/longhorn", "1.7.2", "")),
        addons: vec![release("fluent-bit", "edge/fluent-bit", "0.47.10", "")],
        apps: vec![pos("2.3.0")],
    };
    let profile = k3s_render::K3sProfile::from(&layers);
    assert_eq!(profile.cni.name, "cilium");
    let names: Vec<_> = profile.releases.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["longhorn", "fluent-bit", "pos"]);
}
