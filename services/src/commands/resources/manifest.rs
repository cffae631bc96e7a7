//! kubectl-style manifests: `kind` / `metadata` / `spec`, several YAML documents per file, applied in order.
//!
//! Kinds: `Profile` (spec = layers), `Cluster` (spec: site, profile, overrides), `Node` (spec: cluster, role,
//! optional site), `Site` (labels only), `App` and `Placement` (see `placement_manifest`). `metadata.labels` set labels where the kind has them. Helm `values` may be
//! written as YAML; they are stored as YAML text. Every document is parsed into the API's typed request when the
//! file is read, so a malformed manifest is a usage error (exit 2) before anything is sent.

use super::api_client::HubApi;
use crate::api_types::as_text;
use crate::api_types::requests::{Assign, ClusterCreate, Label, ProfileApply};
use crate::api_types::views::{ClusterView, NodeView, ProfileView, SiteView};
use anyhow::{bail, Context};
use events::cluster::ProfileRef;
use events::node::NodeRole;
use events::profile::ProfileLayers;
use events::Token;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Read;

/// One manifest document, parsed.
#[derive(Debug)]
pub enum Document {
    /// A profile version to publish.
    Profile(Box<ProfileApply>),
    /// A cluster to create (with its labels).
    Cluster(ClusterCreate),
    /// A node to assign and/or label.
    Node {
        /// Node id.
        name: Token,
        /// Its site.
        site: Option<Token>,
        /// The assignment, if the spec names a cluster.
        assignment: Option<(Token, NodeRole)>,
        /// Labels.
        labels: BTreeMap<String, String>,
    },
    /// An app version to publish.
    App(crate::api_types::placement_api::AppApply),
    /// A placement to apply.
    Placement(Box<crate::api_types::placement_api::PlacementApply>),
    /// A site's labels.
    Site {
        /// Site id.
        name: Token,
        /// Labels.
        labels: BTreeMap<String, String>,
    },
}

impl Document {
    /// The kind, as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Document::Profile(_) => "Profile",
            Document::Cluster(_) => "Cluster",
            Document::Node { .. } => "Node",
            Document::Site { .. } => "Site",
            Document::App(_) => "App",
            Document::Placement(_) => "Placement",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterSpec {
    site: Token,
    #[serde(with = "as_text")]
    profile: ProfileRef,
    #[serde(default)]
    overrides: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSpec {
    #[serde(default)]
    site: Option<Token>,
    #[serde(default)]
    cluster: Option<Token>,
    #[serde(default)]
    role: Option<NodeRole>,
}

/// Reads and parses every document of `file` (`-` = stdin). A malformed manifest is a usage error.
pub fn read(file: &str) -> anyhow::Result<Vec<Document>> {
    let text = if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the manifest from stdin")?;
        text
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?
    };
    let mut documents = Vec::new();
    for (i, deserializer) in serde_norway::Deserializer::from_str(&text).enumerate() {
        let index = i + 1;
        let value =
            Value::deserialize(deserializer).with_context(|| format!("{file}: document {index} is not valid YAML"))?;
        if value.is_null() {
            continue; // an empty document (e.g. a trailing `---`)
        }
        documents.push(document(value).with_context(|| format!("{file}: document {index}"))?);
    }
    if documents.is_empty() {
        bail!("{file}: no documents");
    }
    Ok(documents)
}

fn document(value: Value) -> anyhow::Result<Document> {
    let object = value
        .as_object()
        .context("a manifest must be a mapping with kind, metadata and spec")?;
    for key in object.keys() {
        if !["apiVersion", "kind", "metadata", "spec"].contains(&key.as_str()) {
            bail!("unknown top-level field {key:?} (expected apiVersion, kind, metadata, spec)");
        }
    }
    let kind = object.get("kind").and_then(Value::as_str).context("missing kind")?;
    let metadata = object
        .get("metadata")
        .and_then(Value::as_object)
        .context("missing metadata")?;
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .context("missing metadata.name")?;
    let name = Token::new(name).context("metadata.name")?;
    let labels = match metadata.get("labels") {
        None => BTreeMap::new(),
        Some(Value::Object(labels)) => labels.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
        Some(_) => bail!("metadata.labels must be a mapping"),
    };
    let spec = object.get("spec").cloned().unwrap_or(Value::Object(Map::new()));
    if kind != "Site" && !spec.is_object() {
        bail!("{kind} {name}: spec must be a mapping");
    }
    let parse = |what: &str| format!("{kind} {name}: {what}");
    Ok(match kind {
        "Profile" => {
            let mut layers = spec;
            values_as_text(&mut layers)?;
            let layers: ProfileLayers = serde_json::from_value(layers).with_context(|| parse("spec"))?;
            Document::Profile(Box::new(ProfileApply { name, layers }))
        }
        "Cluster" => {
            let spec: ClusterSpec = serde_json::from_value(spec).with_context(|| parse("spec"))?;
            Document::Cluster(ClusterCreate {
                id: name,
                site: spec.site,
                profile: spec.profile,
                overrides: spec.overrides,
                labels,
            })
        }
        "Node" => {
            let spec: NodeSpec = serde_json::from_value(spec).with_context(|| parse("spec"))?;
            let assignment = match (spec.cluster, spec.role) {
                (Some(cluster), Some(role)) => Some((cluster, role)),
                (None, None) => None,
                _ => bail!("{kind} {name}: spec.cluster and spec.role go together"),
            };
            Document::Node {
                name,
                site: spec.site,
                assignment,
                labels,
            }
        }
        "Site" => Document::Site { name, labels },
        "App" => Document::App(super::placement_manifest::app(name, spec)?),
        "Placement" => Document::Placement(Box::new(super::placement_manifest::placement(name, spec)?)),
        other => bail!("unknown kind {other:?} (expected Profile, Cluster, Node, Site, App or Placement)"),
    })
}

/// A label value as text (YAML may write `7` or `true`).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Turns Helm `values` written as YAML mappings into YAML text, as the API stores them.
fn values_as_text(layers: &mut Value) -> anyhow::Result<()> {
    let Some(object) = layers.as_object_mut() else {
        return Ok(());
    };
    let mut releases: Vec<&mut Value> = Vec::new();
    for (key, value) in object.iter_mut() {
        match key.as_str() {
            "cni" | "csi" => releases.push(value),
            "addons" | "apps" => releases.extend(value.as_array_mut().into_iter().flatten()),
            _ => {}
        }
    }
    for release in releases {
        if let Some(values) = release.get_mut("values") {
            if !values.is_string() {
                let text = if values.is_null() {
                    String::new()
                } else {
                    serde_norway::to_string(values)?
                };
                *values = Value::String(text);
            }
        }
    }
    Ok(())
}

/// Publishes a Profile document; returns the API's view.
pub async fn apply_profile(api: &HubApi, request: &ProfileApply) -> anyhow::Result<ProfileView> {
    let view: ProfileView = api.call("profiles.apply", request).await?;
    let verb = if view.created { "created" } else { "unchanged" };
    eprintln!("profile/{}@{} {verb}", view.name, view.version);
    Ok(view)
}

/// Applies every document in order; stops at the first refusal.
pub async fn apply(api: &HubApi, documents: Vec<Document>) -> anyhow::Result<()> {
    for document in documents {
        match document {
            Document::Profile(request) => {
                apply_profile(api, &request).await?;
            }
            Document::Cluster(request) => {
                let cluster: ClusterView = api.call("clusters.create", &request).await?;
                eprintln!("cluster/{}/{} applied ({})", cluster.site, cluster.id, request.profile);
            }
            Document::Node {
                name,
                site,
                assignment,
                labels,
            } => {
                if let Some((cluster, role)) = assignment {
                    let request = Assign {
                        id: name.clone(),
                        site: site.clone(),
                        cluster: cluster.clone(),
                        role,
                    };
                    let _: NodeView = api.call("nodes.assign", &request).await?;
                    eprintln!("node/{name} assigned to {cluster} as {role}");
                }
                if !labels.is_empty() {
                    let request = Label {
                        id: name.clone(),
                        site,
                        labels,
                    };
                    let _: NodeView = api.call("nodes.label", &request).await?;
                    eprintln!("node/{name} labelled");
                }
            }
            Document::App(request) => {
                let view: crate::api_types::placement_api::AppView = api.call("apps.apply", &request).await?;
                let verb = if view.created { "created" } else { "unchanged" };
                eprintln!("app/{}@{} {verb}", view.name, view.version);
            }
            Document::Placement(request) => {
                let view: crate::api_types::placement_api::PlacementView =
                    api.call("placements.apply", &request).await?;
                eprintln!(
                    "placement/{} applied (generation {}, app {})",
                    view.name, view.generation, view.app
                );
            }
            Document::Site { name, labels } => {
                let request = Label {
                    id: name.clone(),
                    site: None,
                    labels,
                };
                let _: SiteView = api.call("sites.label", &request).await?;
                eprintln!("site/{name} labelled");
            }
        }
    }
    Ok(())
}
