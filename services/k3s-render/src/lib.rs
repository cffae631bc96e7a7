//! What k3s needs on one machine, rendered from edgefleet's cluster membership and profile, and applied to a
//! directory tree. The core of a k3s runtime behind the site's `ClusterRuntime` port; knows nothing of NATS,
//! the log or the fleet.
//!
//! **Rendered** ([`render()`], pure):
//! - `/etc/rancher/k3s/config.yaml`: `node-name`, `node-ip` (when known), `advertise-address` (servers, when
//!   given), `token-file` (the token itself is never rendered), `cluster-init` or `server`,
//!   `write-kubeconfig-mode: "0600"` (servers), `flannel-backend: none` and `disable-network-policy: true`
//!   (servers, when the profile's CNI is not flannel), and `node-label`: `edgefleet.io/cluster=…`,
//!   `edgefleet.io/node=…` and the node's own labels.
//! - On servers only, one `HelmChart` (helm.cattle.io/v1, in `kube-system`) per profile release in
//!   `/var/lib/rancher/k3s/server/manifests/edgefleet-<release>.yaml`, for k3s' deploy and helm controllers.
//!   Chart references map to `chart`/`repo` as [`chart_ref`] tabulates.
//! - On servers only, each app placed on the cluster in `…/manifests/edgefleet-app-<name>.yaml` ([`app_manifest`]):
//!   a `HelmChart` into the app's namespace, or the app's own manifests.
//! - The command line: `k3s server --config /etc/rancher/k3s/config.yaml` or `k3s agent --config …`.
//!
//! **Roles** ([`K3sRole`]) map to k3s like this:
//!
//! | role | command | config |
//! |---|---|---|
//! | `FirstServer` | `server` | `cluster-init: true` (embedded etcd), manifests |
//! | `JoiningServer { server_url }` | `server` | `server: https://IP:6443`, manifests |
//! | `Agent { server_url }` | `agent` | `server: https://IP:6443`, no manifests, no server flags |
//!
//! All nodes of a cluster share one token file's contents; this crate only names the file.
//!
//! **Applied** ([`plan_apply`], pure; [`apply()`], the only I/O besides [`K3sBinary`]): changed files written
//! atomically under a root, manifests of releases gone from the profile removed (only `edgefleet-*.yaml`), the
//! rendering recorded in `/var/lib/edgefleet/k3s-rendered.json` ([`load_applied`]), and k3s restarted by the
//! caller only when `config.yaml` or the command line changed.
//!
//! **Not exercised here**: k3s itself cannot run on this machine, so nothing here shows k3s accepting these files,
//! helm-controller installing the charts, or a node joining. The tests pin the rendered text with insta snapshots
//! (reviewed against k3s' config keys and the HelmChart spec), parse the YAML back, and apply into temp dirs.
//! [`K3sBinary`] is tested on literal `k3s --version` output, not on a k3s binary.
//!
//! **Not handled**: a node moving between server and agent (k3s needs a fresh install for that; the caller removes
//! the node and installs it again); releases that replace k3s' packaged components (traefik, servicelb,
//! local-storage, metrics-server stay enabled; a release may not take the name of k3s' own `traefik` charts); registries, private chart repositories' credentials.

#![warn(missing_docs)]

pub mod app_manifest;
pub mod apply;
pub mod apply_plan;
pub mod binary;
pub mod chart_ref;
pub mod config_yaml;
pub mod helm_chart;
pub mod k3s_version;
pub mod kube_names;
pub mod node;
pub mod render;
pub mod render_error;
pub mod server_url;
pub mod yaml_text;

pub use app_manifest::{app_file_name, K3sApp};
pub use apply::{apply, load_applied, unapply, write_secret, ApplyError, RECORD_PATH};
pub use apply_plan::{plan_apply, ApplyPlan};
pub use binary::{check_version, parse_version_output, BinaryError, K3sBinary};
pub use config_yaml::CONFIG_PATH;
pub use helm_chart::MANIFESTS_DIR;
pub use node::{K3sNode, K3sProfile, K3sRole};
pub use render::{render, Rendered};
pub use render_error::RenderError;
pub use server_url::{server_url_for, SERVER_PORT};
