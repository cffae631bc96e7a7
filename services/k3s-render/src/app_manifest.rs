//! An edgefleet app (placed by a placement, apart from the profile's releases) as a k3s auto-deploy manifest in
//! the servers' manifests directory, `edgefleet-app-<name>.yaml`: a Helm app becomes a `HelmChart` into the app's
//! own namespace; a manifests app is written as given, after checking that every document is a Kubernetes object
//! (a mapping with `apiVersion` and `kind`). k3s' deploy controller applies the file, and deletes what it made when
//! the file goes.

use crate::helm_chart::{check_release, render_helm_chart, Placement, MANIFEST_PREFIX};
use crate::kube_names::{check_dns_label, RELEASE_NAME_MAX_LEN};
use crate::render_error::{preview, RenderError};
use events::app::AppRelease;
use events::profile::HelmRelease;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One app to run, as the site assigned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct K3sApp {
    /// The app's name (the Helm release name, and the manifest's).
    pub name: String,
    /// What it installs.
    pub release: AppRelease,
}

/// `edgefleet-app-<name>.yaml`.
pub fn app_file_name(name: &str) -> String {
    format!("{MANIFEST_PREFIX}app-{name}.yaml")
}

/// Checks `app` and renders its manifest.
pub fn render_app(app: &K3sApp, helm_repos: &BTreeMap<String, String>) -> Result<String, RenderError> {
    check_dns_label(&app.name, RELEASE_NAME_MAX_LEN).map_err(|reason| RenderError::BadReleaseName {
        release: preview(&app.name),
        reason: format!("{reason} (app names are DNS-1123 labels of at most {RELEASE_NAME_MAX_LEN} characters)"),
    })?;
    match &app.release {
        AppRelease::Helm {
            chart,
            version,
            values,
            namespace,
        } => {
            let release = HelmRelease {
                name: app.name.clone(),
                chart: chart.clone(),
                version: version.clone(),
                values: values.clone(),
            };
            let location = check_release(&release, helm_repos)?;
            check_dns_label(namespace, 63).map_err(|reason| RenderError::BadReleaseName {
                release: preview(&app.name),
                reason: format!("namespace {}: {reason}", preview(namespace)),
            })?;
            Ok(render_helm_chart(&release, &location, Placement::Namespace(namespace)))
        }
        AppRelease::Manifests { yaml } => {
            check_manifests(&app.name, yaml)?;
            let mut text = format!(
                "# Rendered by edgefleet from app {}; edits are overwritten.\n",
                app.name
            );
            text.push_str(yaml);
            if !text.ends_with('\n') {
                text.push('\n');
            }
            Ok(text)
        }
    }
}

/// Every document must be a mapping with a string `apiVersion` and `kind`.
fn check_manifests(name: &str, yaml: &str) -> Result<(), RenderError> {
    let bad = |reason: String| RenderError::BadValues {
        release: name.to_string(),
        reason: format!("its manifests: {reason}"),
    };
    let mut objects = 0;
    for (i, document) in serde_norway::Deserializer::from_str(yaml).enumerate() {
        let value = serde_norway::Value::deserialize(document).map_err(|e| bad(e.to_string()))?;
        if value.is_null() {
            continue;
        }
        let is_object = ["apiVersion", "kind"]
            .iter()
            .all(|key| value.get(key).is_some_and(serde_norway::Value::is_string));
        if !is_object {
            return Err(bad(format!(
                "document {} is not a Kubernetes object (a mapping with apiVersion and kind)",
                i + 1
            )));
        }
        objects += 1;
    }
    if objects == 0 {
        return Err(bad("there are none".into()));
    }
    Ok(())
}
