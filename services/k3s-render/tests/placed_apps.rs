//! Given apps placed on a cluster, when a node is rendered, then servers carry one manifest per app (a HelmChart
//! into the app's namespace, or the app's own manifests) and workers none; a bad app is refused with the reason.

mod k3s_support;

use events::app::AppRelease;
use k3s_render::{render, K3sApp, RenderError, MANIFESTS_DIR};
use k3s_support::*;
use std::path::Path;

fn kiosk() -> K3sApp {
    K3sApp {
        name: "kiosk".into(),
        release: AppRelease::Helm {
            chart: "oci://registry.example/charts/kiosk".into(),
            version: "1.4.0".into(),
            values: "screens: 3\n".into(),
            namespace: "front-of-house".into(),
        },
    }
}

fn menu_board() -> K3sApp {
    K3sApp {
        name: "menu-board".into(),
        release: AppRelease::Manifests {
            yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: menu, namespace: default}\ndata: {today: soup}\n"
                .into(),
        },
    }
}

#[test]
fn given_two_apps_then_a_server_carries_a_manifest_for_each_and_a_worker_none() {
    let mut server = first_server(store_profile());
    server.apps = vec![kiosk(), menu_board()];
    let rendered = render(&server).expect("renders");
    let apps: String = rendered
        .files
        .iter()
        .filter(|(p, _)| p.starts_with(MANIFESTS_DIR) && p.to_string_lossy().contains("edgefleet-app-"))
        .map(|(p, c)| format!("=== {}\n{c}", p.display()))
        .collect();
    insta::assert_snapshot!("placed_apps_on_a_server", apps);

    let mut agent = worker(store_profile());
    agent.apps = vec![kiosk(), menu_board()];
    let rendered = render(&agent).expect("renders");
    assert!(
        rendered.files.keys().all(|p| !p.starts_with(Path::new(MANIFESTS_DIR))),
        "workers apply no manifests"
    );
}

#[test]
fn bad_apps_are_refused_with_the_reason() {
    let refused = |app: K3sApp| {
        let mut node = first_server(store_profile());
        node.apps = vec![app];
        render(&node).expect_err("refused")
    };
    let not_objects = K3sApp {
        name: "menu-board".into(),
        release: AppRelease::Manifests {
            yaml: "just: a mapping\n".into(),
        },
    };
    assert!(refused(not_objects).to_string().contains("not a Kubernetes object"));
    let same_as_release = K3sApp {
        name: "pos".into(),
        ..kiosk()
    };
    assert!(matches!(refused(same_as_release), RenderError::DuplicateRelease { .. }));
    let bad_namespace = K3sApp {
        release: AppRelease::Helm {
            chart: "oci://registry.example/charts/kiosk".into(),
            version: "1.4.0".into(),
            values: String::new(),
            namespace: "Front Of House".into(),
        },
        ..kiosk()
    };
    assert!(refused(bad_namespace).to_string().contains("namespace"));
}
