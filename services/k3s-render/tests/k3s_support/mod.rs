//! Fixtures shared by the k3s-render tests: a store's profile in two versions and the nodes of its cluster.

#![allow(dead_code)] // each test file uses a part

use events::profile::{HelmRelease, KubernetesLayer};
use k3s_render::{server_url_for, K3sNode, K3sProfile, K3sRole};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A release.
pub fn release(name: &str, chart: &str, version: &str, values: &str) -> HelmRelease {
    HelmRelease {
        name: name.into(),
        chart: chart.into(),
        version: version.into(),
        values: values.into(),
    }
}

/// k3s at `version`.
pub fn k3s(version: &str) -> KubernetesLayer {
    KubernetesLayer {
        distro: "k3s".into(),
        version: version.into(),
    }
}

/// Cilium as the CNI, with a few values.
pub fn cilium(version: &str) -> HelmRelease {
    release(
        "cilium",
        "oci://registry.example/charts/cilium",
        version,
        "ipam:\n  mode: kubernetes\noperator:\n  replicas: 1\n",
    )
}

/// The point-of-sale app, from a repository given by alias.
pub fn pos(version: &str) -> HelmRelease {
    release(
        "pos",
        "edge/pos",
        version,
        "replicas: 2\n# the tills talk to this\nservice:\n  type: NodePort\n  nodePort: 30080\n",
    )
}

/// Cilium and the point-of-sale app on k3s v1.31.4+k3s1.
pub fn store_profile() -> K3sProfile {
    K3sProfile {
        kubernetes: k3s("v1.31.4+k3s1"),
        cni: cilium("1.16.5"),
        releases: vec![pos("2.3.0")],
    }
}

/// The address of node `n` (`10.20.0.<n>`).
pub fn ip(n: u8) -> IpAddr {
    IpAddr::from([10, 20, 0, n])
}

/// Node `n<n>` of cluster `store-1` in `role`, with a rack label.
pub fn node(n: u8, role: K3sRole, profile: K3sProfile) -> K3sNode {
    K3sNode {
        cluster: "store-1".into(),
        node: format!("n{n}"),
        role,
        node_ip: Some(ip(n)),
        advertise_address: None,
        token_file: "/var/lib/edgefleet/k3s/token".into(),
        profile,
        node_labels: BTreeMap::from([("topology.kubernetes.io/zone".into(), "back-office".into())]),
        helm_repos: BTreeMap::from([("edge".into(), "https://charts.edge.example/stable".into())]),
        apps: vec![],
    }
}

/// The cluster's first control-plane node.
pub fn first_server(profile: K3sProfile) -> K3sNode {
    node(1, K3sRole::FirstServer, profile)
}

/// A control-plane node joining `n1`.
pub fn joining_server(profile: K3sProfile) -> K3sNode {
    node(
        2,
        K3sRole::JoiningServer {
            server_url: server_url_for(ip(1)),
        },
        profile,
    )
}

/// A worker joining `n1`.
pub fn worker(profile: K3sProfile) -> K3sNode {
    node(
        4,
        K3sRole::Agent {
            server_url: server_url_for(ip(1)),
        },
        profile,
    )
}
