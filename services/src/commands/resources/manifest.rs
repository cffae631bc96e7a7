//! kubectl-style manifests: `kind` / `metadata` / `spec`, several YAML documents per file, applied in order.
//!
//! Kinds: `Profile` (spec = layers), `Cluster` (spec: site, profile, overrides), `Node` (spec: cluster, role,
//! optional site), `Site` (labels only). `metadata.labels` set labels where the kind has them. Helm `values` may be
//! written as YAML; they are stored as YAML text.

use super::api_client::HubApi;
use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::io::Read;

/// One manifest document.
#[derive(Clone, Debug)]
pub struct Document {
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: Map<String, Value>,
    /// `spec`.
    pub spec: Value,
    /// Position in the file (1-based), for messages.
    pub index: usize,
}

/// Reads and checks every document of `file` (`-` = stdin). A malformed manifest is a usage error.
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
        documents.push(document(value, index).with_context(|| format!("{file}: document {index}"))?);
    }
    if documents.is_empty() {
        bail!("{file}: no documents");
    }
    Ok(documents)
}

fn document(value: Value, index: usize) -> anyhow::Result<Document> {
    let object = value
        .as_object()
        .context("a manifest must be a mapping with kind, metadata and spec")?;
    for key in object.keys() {
        if !["apiVersion", "kind", "metadata", "spec"].contains(&key.as_str()) {
            bail!("unknown top-level field {key:?} (expected apiVersion, kind, metadata, spec)");
        }
    }
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .context("missing kind")?
        .to_string();
    if !["Profile", "Cluster", "Node", "Site"].contains(&kind.as_str()) {
        bail!("unknown kind {kind:?} (expected Profile, Cluster, Node or Site)");
    }
    let metadata = object
        .get("metadata")
        .and_then(Value::as_object)
        .context("missing metadata")?;
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .context("missing metadata.name")?
        .to_string();
    let labels = match metadata.get("labels") {
        None => Map::new(),
        Some(Value::Object(labels)) => labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(super::tables::cell(v))))
            .collect(),
        Some(_) => bail!("metadata.labels must be a mapping"),
    };
    let spec = object.get("spec").cloned().unwrap_or(Value::Object(Map::new()));
    if kind != "Site" && !spec.is_object() {
        bail!("{kind} {name}: spec must be a mapping");
    }
    Ok(Document {
        kind,
        name,
        labels,
        spec,
        index,
    })
}

/// Turns Helm `values` written as YAML mappings into YAML text, as the API stores them.
fn values_as_text(layers: &mut Value) -> anyhow::Result<()> {
    let release_slots = ["cni", "csi"];
    let mut releases: Vec<&mut Value> = Vec::new();
    let Some(object) = layers.as_object_mut() else {
        return Ok(());
    };
    for (key, value) in object.iter_mut() {
        if release_slots.contains(&key.as_str()) {
            releases.push(value);
        } else if key == "addons" || key == "apps" {
            if let Some(items) = value.as_array_mut() {
                releases.extend(items.iter_mut());
            }
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
pub async fn apply_profile(api: &HubApi, document: &Document) -> anyhow::Result<Value> {
    let mut layers = document.spec.clone();
    values_as_text(&mut layers)?;
    let view = api
        .call("profiles.apply", json!({ "name": document.name, "layers": layers }))
        .await?;
    let verb = if view["created"] == true {
        "created"
    } else {
        "unchanged"
    };
    eprintln!("profile/{}@{} {verb}", document.name, view["version"]);
    Ok(view)
}

/// Applies every document in order; stops at the first refusal.
pub async fn apply(api: &HubApi, documents: Vec<Document>) -> anyhow::Result<()> {
    for document in documents {
        let spec = &document.spec;
        match document.kind.as_str() {
            "Profile" => {
                apply_profile(api, &document).await?;
            }
            "Cluster" => {
                let body = json!({
                    "id": document.name,
                    "site": spec["site"],
                    "profile": spec["profile"],
                    "overrides": spec.get("overrides").cloned().unwrap_or(json!({})),
                    "labels": document.labels,
                });
                let cluster = api.call("clusters.create", body).await?;
                eprintln!(
                    "cluster/{}/{} applied ({})",
                    cluster["site"].as_str().unwrap_or("?"),
                    document.name,
                    spec["profile"]
                );
            }
            "Node" => {
                let site = spec.get("site").cloned().unwrap_or(Value::Null);
                if spec.get("cluster").is_some() {
                    let body =
                        json!({ "id": document.name, "site": site, "cluster": spec["cluster"], "role": spec["role"] });
                    api.call("nodes.assign", body).await?;
                    eprintln!(
                        "node/{} assigned to {} as {}",
                        document.name, spec["cluster"], spec["role"]
                    );
                }
                if !document.labels.is_empty() {
                    api.call(
                        "nodes.label",
                        json!({ "id": document.name, "site": site, "labels": document.labels }),
                    )
                    .await?;
                    eprintln!("node/{} labelled", document.name);
                }
            }
            "Site" => {
                api.call("sites.label", json!({ "id": document.name, "labels": document.labels }))
                    .await?;
                eprintln!("site/{} labelled", document.name);
            }
            other => bail!("document {}: unknown kind {other}", document.index),
        }
    }
    Ok(())
}
