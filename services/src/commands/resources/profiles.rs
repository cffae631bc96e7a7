//! `edgefleet profiles apply|ls|get`.

use super::api_client::HubApi;
use super::manifest;
use super::tables::{cell, key, print};
use crate::cli::{OutputFormat, ProfilesCommand};
use serde_json::{json, Value};

fn versions(row: &Value) -> String {
    cell(&row["versions"])
}

/// Runs a profiles subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: ProfilesCommand) -> anyhow::Result<()> {
    match command {
        ProfilesCommand::Apply { file } => {
            let documents = manifest::read(&file)?;
            for document in documents {
                anyhow::ensure!(
                    document.kind == "Profile",
                    "{file}: expected kind Profile, found {}",
                    document.kind
                );
                let view = manifest::apply_profile(api, &document).await?;
                print(
                    format,
                    &view,
                    &[
                        ("PROFILE", &key("name")),
                        ("VERSION", &key("version")),
                        ("VERSIONS", &versions),
                    ],
                )?;
            }
            Ok(())
        }
        ProfilesCommand::Ls => {
            let rows = api.call("profiles.list", json!({})).await?;
            print(
                format,
                &rows,
                &[
                    ("PROFILE", &key("name")),
                    ("LATEST", &key("latest")),
                    ("VERSIONS", &versions),
                    ("K8S", &key("k8s")),
                    ("OS", &key("os")),
                ],
            )
        }
        ProfilesCommand::Get { name } => {
            let (name, version) = match name.split_once('@') {
                Some((n, v)) => (
                    n.to_string(),
                    Some(
                        v.parse::<u32>()
                            .map_err(|_| anyhow::anyhow!("version {v:?} is not a number"))?,
                    ),
                ),
                None => (name, None),
            };
            let view = api
                .call("profiles.get", json!({ "name": name, "version": version }))
                .await?;
            let k8s = |v: &Value| {
                format!(
                    "{} {}",
                    cell(&v["layers"]["k8s"]["distro"]),
                    cell(&v["layers"]["k8s"]["version"])
                )
            };
            let os = |v: &Value| {
                format!(
                    "{} {}",
                    cell(&v["layers"]["os"]["image"]),
                    cell(&v["layers"]["os"]["version"])
                )
            };
            let releases = |v: &Value| {
                let layers = &v["layers"];
                let mut names = vec![cell(&layers["cni"]["name"])];
                names.extend(layers["csi"]["name"].as_str().map(str::to_string));
                for layer in ["addons", "apps"] {
                    names.extend(layers[layer].as_array().into_iter().flatten().map(|r| cell(&r["name"])));
                }
                names.join(",")
            };
            print(
                format,
                &view,
                &[
                    ("PROFILE", &key("name")),
                    ("VERSION", &key("version")),
                    ("K8S", &k8s),
                    ("OS", &os),
                    ("RELEASES", &releases),
                ],
            )
        }
    }
}
