//! `edgefleet profiles apply|ls|get`.

use super::api_client::HubApi;
use super::manifest;
use super::tables::{print_list, print_one, Column};
use crate::api_types::requests::{Empty, ProfileGet};
use crate::api_types::views::{ProfileRow, ProfileView};
use crate::cli::{OutputFormat, ProfilesCommand};

fn versions(versions: &[u32]) -> String {
    versions.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn releases(view: &ProfileView) -> String {
    let layers = &view.layers;
    std::iter::once(&layers.cni)
        .chain(&layers.csi)
        .chain(&layers.addons)
        .chain(&layers.apps)
        .map(|r| r.name.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

const APPLIED: &[Column<'static, ProfileView>] = &[
    ("PROFILE", &|p: &ProfileView| p.name.clone()),
    ("VERSION", &|p: &ProfileView| p.version.to_string()),
    ("VERSIONS", &|p: &ProfileView| versions(&p.versions)),
];

const DETAIL: &[Column<'static, ProfileView>] = &[
    ("PROFILE", &|p: &ProfileView| p.name.clone()),
    ("VERSION", &|p: &ProfileView| p.version.to_string()),
    ("K8S", &|p: &ProfileView| {
        format!("{} {}", p.layers.k8s.distro, p.layers.k8s.version)
    }),
    ("OS", &|p: &ProfileView| {
        format!("{} {}", p.layers.os.image, p.layers.os.version)
    }),
    ("RELEASES", &releases),
];

const ROWS: &[Column<'static, ProfileRow>] = &[
    ("PROFILE", &|p: &ProfileRow| p.name.clone()),
    ("LATEST", &|p: &ProfileRow| p.latest.to_string()),
    ("VERSIONS", &|p: &ProfileRow| versions(&p.versions)),
    ("K8S", &|p: &ProfileRow| p.k8s.clone()),
    ("OS", &|p: &ProfileRow| p.os.clone()),
];

/// Runs a profiles subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: ProfilesCommand) -> anyhow::Result<()> {
    match command {
        ProfilesCommand::Apply { file } => {
            for document in manifest::read(&file)? {
                let request = match document {
                    manifest::Document::Profile(request) => request,
                    other => anyhow::bail!("{file}: expected kind Profile, found {}", other.kind()),
                };
                let view = manifest::apply_profile(api, &request).await?;
                print_one(format, &view, APPLIED)?;
            }
            Ok(())
        }
        ProfilesCommand::Ls => {
            let rows: Vec<ProfileRow> = api.call("profiles.list", &Empty {}).await?;
            print_list(format, &rows, ROWS)
        }
        ProfilesCommand::Get { name } => {
            let request = match name.parse::<events::cluster::ProfileRef>() {
                Ok(profile) => ProfileGet {
                    name: profile.name,
                    version: Some(profile.version),
                },
                Err(_) => ProfileGet {
                    name: events::Token::new(name)?,
                    version: None,
                },
            };
            let view: ProfileView = api.call("profiles.get", &request).await?;
            print_one(format, &view, DETAIL)
        }
    }
}
