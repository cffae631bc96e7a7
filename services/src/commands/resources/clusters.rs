//! `edgefleet clusters create|ls|get|upgrade|delete`.

use super::api_client::HubApi;
use super::tables::{or_dash, pairs, print_list, print_one, Column};
use crate::api_types::requests::{ClusterCreate, ClusterFilter, ClusterRef, ClusterUpgrade};
use crate::api_types::views::{ClusterView, MemberView};
use crate::cli::{ClustersCommand, OutputFormat};

const COLUMNS: &[Column<'static, ClusterView>] = &[
    ("SITE", &|c: &ClusterView| c.site.clone()),
    ("CLUSTER", &|c: &ClusterView| c.id.clone()),
    ("STATE", &|c: &ClusterView| c.state.clone()),
    ("PROFILE", &|c: &ClusterView| or_dash(c.profile.as_ref())),
    ("RUNNING", &|c: &ClusterView| or_dash(c.running_profile.as_ref())),
    ("NODES", &|c: &ClusterView| c.members.len().to_string()),
];

const MEMBERS: &[Column<'static, MemberView>] = &[
    ("NODE", &|m: &MemberView| m.node.clone()),
    ("ROLE", &|m: &MemberView| m.role.to_string()),
    ("STATE", &|m: &MemberView| or_dash(m.state)),
];

/// Runs a clusters subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: ClustersCommand) -> anyhow::Result<()> {
    let one = |cluster: &ClusterView| print_one(format, cluster, COLUMNS);
    match command {
        ClustersCommand::Create {
            id,
            site,
            profile,
            overrides,
            labels,
        } => {
            let request = ClusterCreate {
                id: id.clone(),
                site: site.clone(),
                profile: profile.clone(),
                overrides: pairs(overrides),
                labels: pairs(labels),
            };
            let cluster: ClusterView = api.call("clusters.create", &request).await?;
            eprintln!("cluster/{site}/{id} created from {profile}");
            one(&cluster)
        }
        ClustersCommand::Ls { site, removed } => {
            let clusters: Vec<ClusterView> = api.call("clusters.list", &ClusterFilter { site, removed }).await?;
            print_list(format, &clusters, COLUMNS)
        }
        ClustersCommand::Get { id, site } => {
            let cluster: ClusterView = api.call("clusters.get", &ClusterRef { id, site }).await?;
            one(&cluster)?;
            if format == OutputFormat::Table {
                println!();
                print_list(format, &cluster.members, MEMBERS)?;
            }
            Ok(())
        }
        ClustersCommand::Upgrade { id, profile, site } => {
            let request = ClusterUpgrade {
                id: id.clone(),
                site,
                profile: profile.clone(),
            };
            let cluster: ClusterView = api.call("clusters.upgrade", &request).await?;
            eprintln!("cluster/{}/{id} moving to {profile}", cluster.site);
            one(&cluster)
        }
        ClustersCommand::Delete { id, site } => {
            let cluster: ClusterView = api
                .call("clusters.delete", &ClusterRef { id: id.clone(), site })
                .await?;
            eprintln!(
                "cluster/{}/{id} deleted; its site takes the members out and removes it",
                cluster.site
            );
            one(&cluster)
        }
    }
}
