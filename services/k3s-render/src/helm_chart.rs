//! One profile release as a k3s auto-deploy manifest: a `HelmChart` (helm.cattle.io/v1) in `kube-system` that
//! k3s' helm-controller installs, upgrades when the file changes and uninstalls when the file goes. Checks the
//! release on the way (name, chart reference, version, values) and never reads the machine.

use crate::chart_ref::{resolve_chart, ChartLocation, ChartRefError};
use crate::kube_names::{check_dns_label, RELEASE_NAME_MAX_LEN};
use crate::render_error::{preview, RenderError};
use crate::yaml_text::YamlWriter;
use events::profile::HelmRelease;
use std::collections::BTreeMap;

/// The directory k3s servers' deploy controller applies manifests from.
pub const MANIFESTS_DIR: &str = "/var/lib/rancher/k3s/server/manifests";

/// Prefix of every manifest this crate writes; only files named `edgefleet-*.yaml` are ever removed.
pub const MANIFEST_PREFIX: &str = "edgefleet-";

/// The namespace helm-controller watches for HelmCharts, and where a CNI's resources go.
const KUBE_SYSTEM: &str = "kube-system";

/// Names of the HelmCharts k3s itself deploys into `kube-system`; a release may not take them.
const PACKAGED_CHARTS: &[&str] = &["traefik", "traefik-crd"];

/// Where a release's resources go and how it is installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement<'a> {
    /// The network plugin: into `kube-system`, installed with `bootstrap: true` (the install job runs on the host
    /// network and tolerates not-ready nodes: until the CNI runs, no pod gets a network and every node is
    /// not ready).
    Cni,
    /// Anything else: into a namespace named after the release, created if missing.
    OwnNamespace,
    /// An app: into the namespace it names, created if missing.
    Namespace(&'a str),
}

/// The manifest file name for a release: `edgefleet-<release>.yaml`.
pub fn manifest_file_name(release: &str) -> String {
    format!("{MANIFEST_PREFIX}{release}.yaml")
}

/// Checks `release` and resolves its chart; refuses what helm-controller could not install.
pub fn check_release(
    release: &HelmRelease,
    helm_repos: &BTreeMap<String, String>,
) -> Result<ChartLocation, RenderError> {
    check_dns_label(&release.name, RELEASE_NAME_MAX_LEN).map_err(|reason| RenderError::BadReleaseName {
        release: preview(&release.name),
        reason: format!(
            "{reason} (Helm release names are DNS-1123 labels of at most {RELEASE_NAME_MAX_LEN} characters)"
        ),
    })?;
    if PACKAGED_CHARTS.contains(&release.name.as_str()) {
        return Err(RenderError::BadReleaseName {
            release: preview(&release.name),
            reason: "k3s deploys its own HelmChart of that name in kube-system, and the two would overwrite each \
                     other; name the release differently"
                .into(),
        });
    }
    let name = &release.name;
    let location = resolve_chart(&release.chart, helm_repos).map_err(|e| RenderError::BadChartRef {
        release: name.clone(),
        chart: preview(&release.chart),
        reason: match e {
            ChartRefError::Malformed(reason) => reason.to_string(),
            ChartRefError::UnknownRepo(alias) => format!(
                "repository alias {} is not among the node's Helm repositories: add it, or write the chart as \
                 https://REPO/CHART or oci://…",
                preview(&alias)
            ),
            ChartRefError::BadRepoUrl(url) => {
                format!("the repository's URL {} is not an http(s):// URL", preview(&url))
            }
        },
    })?;
    if release.version.is_empty() {
        return Err(RenderError::NoChartVersion { release: name.clone() });
    }
    if release.version.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(RenderError::BadChartVersion {
            release: name.clone(),
            version: preview(&release.version),
        });
    }
    check_values(release)?;
    Ok(location)
}

/// Values must be a YAML mapping (or nothing): helm-controller hands `valuesContent` to Helm as a values file,
/// and a node is a bad place to learn that it is not one.
fn check_values(release: &HelmRelease) -> Result<(), RenderError> {
    let bad = |reason: String| RenderError::BadValues {
        release: release.name.clone(),
        reason,
    };
    let value: serde_norway::Value = serde_norway::from_str(&release.values).map_err(|e| bad(e.to_string()))?;
    let kind = match value {
        serde_norway::Value::Mapping(_) | serde_norway::Value::Null => return Ok(()),
        serde_norway::Value::Sequence(_) => "a list",
        serde_norway::Value::String(_) => "a string",
        serde_norway::Value::Number(_) => "a number",
        serde_norway::Value::Bool(_) => "a boolean",
        serde_norway::Value::Tagged(_) => "a tagged value",
    };
    Err(bad(format!("the document is {kind}")))
}

/// Renders the manifest of a release [`check_release`] accepted as `location`. The HelmChart is named after the
/// release (helm-controller uses its name as the Helm release name); `valuesContent` is the profile's text as
/// written, comments included, and is left out when the values are blank. `version` is written for archive URLs
/// too, where Helm ignores it (the archive's name carries the version).
pub fn render_helm_chart(release: &HelmRelease, location: &ChartLocation, placement: Placement<'_>) -> String {
    let (target_namespace, create_namespace, bootstrap) = match placement {
        Placement::Cni => (KUBE_SYSTEM, false, true),
        Placement::OwnNamespace => (release.name.as_str(), true, false),
        Placement::Namespace(namespace) => (namespace, true, false),
    };
    let mut yaml = YamlWriter::default();
    let source = match placement {
        Placement::Namespace(_) => "app",
        Placement::Cni | Placement::OwnNamespace => "the profile's release",
    };
    yaml.comment(&format!(
        "Rendered by edgefleet from {source} {}; edits are overwritten.",
        release.name
    ));
    yaml.string(0, "apiVersion", "helm.cattle.io/v1");
    yaml.string(0, "kind", "HelmChart");
    yaml.section(0, "metadata");
    yaml.string(2, "name", &release.name);
    yaml.string(2, "namespace", KUBE_SYSTEM);
    yaml.section(0, "spec");
    yaml.string(2, "chart", &location.chart);
    if let Some(repo) = &location.repo {
        yaml.string(2, "repo", repo);
    }
    yaml.string(2, "version", &release.version);
    yaml.string(2, "targetNamespace", target_namespace);
    if create_namespace {
        yaml.bool(2, "createNamespace", true);
    }
    if bootstrap {
        yaml.bool(2, "bootstrap", true);
    }
    if !release.values.trim().is_empty() {
        yaml.text(2, "valuesContent", &release.values);
    }
    yaml.finish()
}
