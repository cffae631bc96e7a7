//! What the renderer is given: one machine's place in its cluster ([`K3sNode`], [`K3sRole`]) and the part of
//! its profile k3s runs ([`K3sProfile`]). Plain data; [`crate::render()`] checks it.

use events::profile::{HelmRelease, KubernetesLayer, ProfileLayers};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// One machine as k3s should run it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct K3sNode {
    /// The edgefleet cluster id; becomes the node label `edgefleet.io/cluster`.
    pub cluster: String,
    /// The edgefleet node id; becomes k3s' `node-name` and the label `edgefleet.io/node`, so it must be a
    /// DNS-1123 subdomain of at most 63 characters.
    pub node: String,
    /// First control-plane node, joining control-plane node, or worker.
    pub role: K3sRole,
    /// The address other nodes reach this one at (`node-ip`), when known; k3s picks one otherwise.
    pub node_ip: Option<IpAddr>,
    /// The address the API server advertises to the cluster (`advertise-address`); servers only.
    pub advertise_address: Option<IpAddr>,
    /// Absolute path of the file holding the cluster's join token (`token-file`): the token itself never goes
    /// into a rendered file.
    pub token_file: PathBuf,
    /// What the profile asks k3s to run.
    pub profile: K3sProfile,
    /// Extra node labels (`node-label`), besides the two edgefleet sets itself.
    pub node_labels: BTreeMap<String, String>,
    /// Helm repository aliases (`cilium` → `https://helm.cilium.io`) for chart references written `alias/chart`;
    /// see [`crate::chart_ref`].
    pub helm_repos: BTreeMap<String, String>,
    /// The apps placed on the cluster (rendered on servers only, like the profile's releases).
    pub apps: Vec<crate::app_manifest::K3sApp>,
}

/// A node's part in its cluster, as k3s flags say it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum K3sRole {
    /// The cluster's first control-plane node: `k3s server` with `cluster-init: true` (embedded etcd).
    FirstServer,
    /// Another control-plane node joining the first: `k3s server` with `server:` and the same token.
    JoiningServer {
        /// `https://IP:6443` of a running server (see [`crate::server_url_for`]).
        server_url: String,
    },
    /// A worker: `k3s agent` with `server:` and the token.
    Agent {
        /// `https://IP:6443` of a running server (see [`crate::server_url_for`]).
        server_url: String,
    },
}

impl K3sRole {
    /// Whether the node runs `k3s server` (a control-plane member).
    pub fn is_server(&self) -> bool {
        !matches!(self, K3sRole::Agent { .. })
    }

    /// The URL to join, for the roles that join.
    pub fn server_url(&self) -> Option<&str> {
        match self {
            K3sRole::FirstServer => None,
            K3sRole::JoiningServer { server_url } | K3sRole::Agent { server_url } => Some(server_url),
        }
    }
}

/// The part of a profile k3s runs: its Kubernetes layer and its Helm releases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct K3sProfile {
    /// Distribution and version; the distribution must be `k3s`.
    pub kubernetes: KubernetesLayer,
    /// The network plugin. Kept apart from `releases` because it decides k3s' own flannel (see
    /// [`crate::render()`]).
    pub cni: HelmRelease,
    /// The other releases in the profile's order: storage plugin, add-ons, applications.
    pub releases: Vec<HelmRelease>,
}

impl From<&ProfileLayers> for K3sProfile {
    fn from(layers: &ProfileLayers) -> Self {
        K3sProfile {
            kubernetes: layers.k8s.clone(),
            cni: layers.cni.clone(),
            releases: layers
                .csi
                .iter()
                .chain(&layers.addons)
                .chain(&layers.apps)
                .cloned()
                .collect(),
        }
    }
}
