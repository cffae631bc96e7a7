//! `/etc/rancher/k3s/config.yaml`: k3s' flags as a file, one key per flag (`node-name` is `--node-name`).
//! Renders from input [`crate::render()`] has already checked; never reads the machine.

use crate::node::{K3sNode, K3sRole};
use crate::yaml_text::YamlWriter;

/// Where k3s reads its configuration.
pub const CONFIG_PATH: &str = "/etc/rancher/k3s/config.yaml";

/// Node label naming the node's edgefleet cluster.
pub const CLUSTER_LABEL: &str = "edgefleet.io/cluster";

/// Node label naming the node's edgefleet id.
pub const NODE_LABEL: &str = "edgefleet.io/node";

/// Renders `config.yaml` for `node`, whose checks passed and whose token file is the UTF-8 `token_file`.
///
/// `builtin_flannel` says whether k3s' own flannel carries the pod network. When the profile brings another CNI
/// as a Helm release, servers get `flannel-backend: none` (k3s must not start a second pod network that would
/// claim the same pod CIDR and CNI config directory) and `disable-network-policy: true` (k3s' embedded
/// network-policy controller would enforce NetworkPolicies a second time next to the CNI's own, such as
/// Cilium's). Both are server flags that agents take from their servers, so agents never carry them.
pub fn render_config(node: &K3sNode, token_file: &str, builtin_flannel: bool) -> String {
    let server = node.role.is_server();
    let replace_flannel = server && !builtin_flannel;
    let mut yaml = YamlWriter::default();
    yaml.comment(&format!(
        "Rendered by edgefleet for node {} of cluster {}; edits are overwritten.",
        node.node, node.cluster
    ));
    yaml.string(0, "node-name", &node.node);
    if let Some(ip) = node.node_ip {
        yaml.string(0, "node-ip", &ip.to_string());
    }
    if let Some(ip) = node.advertise_address.filter(|_| server) {
        yaml.string(0, "advertise-address", &ip.to_string());
    }
    match &node.role {
        K3sRole::FirstServer => yaml.bool(0, "cluster-init", true),
        K3sRole::JoiningServer { server_url } | K3sRole::Agent { server_url } => yaml.string(0, "server", server_url),
    }
    yaml.string(0, "token-file", token_file);
    if server {
        // k3s' default is 0600 already; written so that a change of default never widens it.
        yaml.string(0, "write-kubeconfig-mode", "0600");
    }
    if replace_flannel {
        yaml.string(0, "flannel-backend", "none");
        yaml.bool(0, "disable-network-policy", true);
    }
    yaml.section(0, "node-label");
    let own = [(CLUSTER_LABEL, node.cluster.as_str()), (NODE_LABEL, node.node.as_str())];
    let given = node.node_labels.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    for (key, value) in own.into_iter().chain(given) {
        yaml.item(2, &format!("{key}={value}"));
    }
    yaml.finish()
}
