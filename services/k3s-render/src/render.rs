//! [`render()`]: a node and its profile in, the files and command line k3s needs out ([`Rendered`]). Pure: checks
//! the input, formats text, touches nothing.

use crate::config_yaml::{render_config, CLUSTER_LABEL, CONFIG_PATH, NODE_LABEL};
use crate::helm_chart::{check_release, manifest_file_name, render_helm_chart, Placement, MANIFESTS_DIR};
use crate::k3s_version::is_k3s_version;
use crate::kube_names::{check_dns_subdomain, check_label_key, check_label_value, kubelet_may_set, LABEL_MAX_LEN};
use crate::node::{K3sNode, K3sRole};
use crate::render_error::{preview, RenderError};
use crate::server_url::check_server_url;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// What k3s needs on one machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rendered {
    /// Absolute path on the machine → contents.
    pub files: BTreeMap<PathBuf, String>,
    /// k3s' arguments: `["server", "--config", "/etc/rancher/k3s/config.yaml"]` or `["agent", …]`.
    pub command: Vec<String>,
}

impl fmt::Display for Rendered {
    /// The command line, then each file's path and contents, in path order: stable, for snapshots and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "$ k3s {}", self.command.join(" "))?;
        for (path, contents) in &self.files {
            writeln!(f, "\n=== {}", path.display())?;
            f.write_str(contents)?;
            if !contents.ends_with('\n') {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// Renders what k3s needs on `node`, or says which input is wrong.
///
/// - Every node gets `config.yaml` and `k3s server|agent --config /etc/rancher/k3s/config.yaml`.
/// - Servers get one HelmChart manifest per release (CNI, storage, add-ons, apps): k3s applies the manifests
///   directory of every server, and agents have none.
/// - The CNI decides k3s' own flannel: a CNI whose chart is `flannel` stands for k3s' built-in flannel (kept, no
///   manifest; its chart version is k3s' own and values are refused), any other CNI replaces it (see
///   [`crate::config_yaml::render_config`]) and is installed as a bootstrap chart.
///
/// The whole profile is checked on every node, agents included, so a profile is refused the same way everywhere.
pub fn render(node: &K3sNode) -> Result<Rendered, RenderError> {
    check_kubernetes(node)?;
    check_identity(node)?;
    let token_file = check_token_file(&node.token_file)?;
    check_role(node)?;
    check_node_labels(node)?;

    let profile = &node.profile;
    let mut seen = BTreeSet::new();
    let mut manifests = Vec::new();
    let cni_location = check_release(&profile.cni, &node.helm_repos)?;
    seen.insert(profile.cni.name.as_str());
    let builtin_flannel = cni_location.name == "flannel";
    if builtin_flannel {
        if !profile.cni.values.trim().is_empty() {
            return Err(RenderError::FlannelValues {
                release: profile.cni.name.clone(),
            });
        }
    } else {
        manifests.push((&profile.cni, cni_location, Placement::Cni));
    }
    for release in &profile.releases {
        let location = check_release(release, &node.helm_repos)?;
        if !seen.insert(release.name.as_str()) {
            return Err(RenderError::DuplicateRelease {
                release: release.name.clone(),
            });
        }
        manifests.push((release, location, Placement::OwnNamespace));
    }

    let mut files = BTreeMap::new();
    files.insert(
        PathBuf::from(CONFIG_PATH),
        render_config(node, token_file, builtin_flannel),
    );
    if node.role.is_server() {
        for (release, location, placement) in &manifests {
            let path = Path::new(MANIFESTS_DIR).join(manifest_file_name(&release.name));
            files.insert(path, render_helm_chart(release, location, *placement));
        }
    }
    // Apps are checked on every node, as releases are, and written on servers.
    for app in &node.apps {
        if !seen.insert(app.name.as_str()) {
            return Err(RenderError::DuplicateRelease {
                release: app.name.clone(),
            });
        }
        let text = crate::app_manifest::render_app(app, &node.helm_repos)?;
        if node.role.is_server() {
            files.insert(
                Path::new(MANIFESTS_DIR).join(crate::app_manifest::app_file_name(&app.name)),
                text,
            );
        }
    }
    let subcommand = if node.role.is_server() { "server" } else { "agent" };
    let command = [subcommand, "--config", CONFIG_PATH].map(str::to_string).to_vec();
    debug_assert!(files.keys().all(|p| p.is_absolute()));
    Ok(Rendered { files, command })
}

fn check_kubernetes(node: &K3sNode) -> Result<(), RenderError> {
    let layer = &node.profile.kubernetes;
    if layer.distro != "k3s" {
        return Err(RenderError::NotK3s {
            distro: preview(&layer.distro),
        });
    }
    if !is_k3s_version(&layer.version) {
        return Err(RenderError::BadK3sVersion {
            version: preview(&layer.version),
        });
    }
    Ok(())
}

/// The cluster and node ids become label values, and the node id k3s' node name.
fn check_identity(node: &K3sNode) -> Result<(), RenderError> {
    let cluster_reason = if node.cluster.is_empty() {
        Some("it is empty".to_string())
    } else {
        check_label_value(&node.cluster).err()
    };
    if let Some(reason) = cluster_reason {
        return Err(RenderError::BadClusterId {
            cluster: preview(&node.cluster),
            reason,
        });
    }
    check_dns_subdomain(&node.node, LABEL_MAX_LEN).map_err(|reason| RenderError::BadNodeName {
        node: preview(&node.node),
        reason,
    })
}

/// The token file is read by k3s from its own working directory, so it must be absolute; and it is written into
/// YAML, so it must be UTF-8 on one line.
fn check_token_file(path: &Path) -> Result<&str, RenderError> {
    if path.as_os_str().is_empty() {
        return Err(RenderError::NoTokenFile);
    }
    match path.to_str() {
        Some(s) if path.is_absolute() && !s.contains(['\n', '\r']) => Ok(s),
        _ => Err(RenderError::BadTokenFile {
            path: preview(&path.to_string_lossy()),
        }),
    }
}

fn check_role(node: &K3sNode) -> Result<(), RenderError> {
    if let Some(url) = node.role.server_url() {
        if url.is_empty() {
            return Err(RenderError::NoServerUrl {
                node: node.node.clone(),
            });
        }
        check_server_url(url).map_err(|reason| RenderError::BadServerUrl {
            url: preview(url),
            reason,
        })?;
    }
    if matches!(node.role, K3sRole::Agent { .. }) && node.advertise_address.is_some() {
        return Err(RenderError::AdvertiseOnAgent {
            node: node.node.clone(),
        });
    }
    Ok(())
}

fn check_node_labels(node: &K3sNode) -> Result<(), RenderError> {
    for (key, value) in &node.node_labels {
        let bad = |reason: String| RenderError::BadNodeLabel {
            key: preview(key),
            reason,
        };
        check_label_key(key).map_err(bad)?;
        check_label_value(value).map_err(bad)?;
        if key == CLUSTER_LABEL || key == NODE_LABEL {
            return Err(RenderError::ForbiddenNodeLabel {
                key: preview(key),
                reason: "edgefleet sets it from the node's cluster membership",
            });
        }
        if !kubelet_may_set(key) {
            return Err(RenderError::ForbiddenNodeLabel {
                key: preview(key),
                reason: "the kubelet may not set labels under kubernetes.io or k8s.io on itself (NodeRestriction) \
                         and would not start; set it through the API instead",
            });
        }
    }
    Ok(())
}
