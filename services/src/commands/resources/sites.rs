//! `edgefleet sites ls|get|label|add|rotate|revoke`.

use super::api_client::HubApi;
use super::tables::{labels, or_dash, pairs, print_list, print_one, Column};
use crate::api_types::fleet_access::{SiteBundleView, SiteIssueRequest};
use crate::api_types::requests::{Empty, Label, SiteRef};
use crate::api_types::views::{SiteConnection, SiteView};
use crate::cli::{OutputFormat, SiteIssueArgs, SitesCommand};
use crate::output::rfc3339_ms;

fn lag(s: &SiteView) -> String {
    if s.connection == SiteConnection::Connected {
        s.replication_lag.to_string()
    } else {
        format!(">={}", s.replication_lag)
    }
}

const COLUMNS: &[Column<'static, SiteView>] = &[
    ("SITE", &|s: &SiteView| s.site.clone()),
    ("CONNECTION", &|s: &SiteView| s.connection.to_string()),
    ("LAST SEEN", &|s: &SiteView| {
        or_dash(s.last_seen_unix_ms.map(rfc3339_ms))
    }),
    ("LAG", &lag),
    ("COPY", &|s: &SiteView| s.copy.to_string()),
    ("EVENTS AT HUB", &|s: &SiteView| s.copied_events.to_string()),
    ("QUARANTINED", &|s: &SiteView| s.quarantined.to_string()),
    ("TEL BACKLOG", &|s: &SiteView| {
        or_dash(
            s.telemetry
                .iter()
                .map(|t| t.backlog_batches)
                .max()
                .map(|n| n.to_string()),
        )
    }),
    ("TEL DROPPED", &|s: &SiteView| {
        or_dash(
            s.telemetry
                .iter()
                .map(|t| t.dropped_at_site + t.dropped_at_hub)
                .max()
                .map(|n| n.to_string()),
        )
    }),
    ("LABELS", &|s: &SiteView| labels(&s.labels)),
];

/// Runs a sites subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: SitesCommand) -> anyhow::Result<()> {
    match command {
        SitesCommand::Ls => {
            let sites: Vec<SiteView> = api.call("sites.list", &Empty {}).await?;
            print_list(format, &sites, COLUMNS)
        }
        SitesCommand::Get { id } => {
            let site: SiteView = api.call("sites.get", &SiteRef { id }).await?;
            print_one(format, &site, COLUMNS)
        }
        SitesCommand::Label { id, labels } => {
            let request = Label {
                id: id.clone(),
                site: None,
                labels: pairs(labels),
            };
            let site: SiteView = api.call("sites.label", &request).await?;
            eprintln!("site/{id} labelled");
            print_one(format, &site, COLUMNS)
        }
        SitesCommand::Add(args) => issue(api, "sites.add", args).await,
        SitesCommand::Rotate(args) => issue(api, "sites.rotate", args).await,
        SitesCommand::Revoke { id } => {
            let site: SiteView = api.call("sites.revoke", &SiteRef { id: id.clone() }).await?;
            eprintln!("site/{id} revoked: its link is closed and its credentials refused; its history stays");
            print_one(format, &site, COLUMNS)
        }
    }
}

/// Asks for a site's bundle and writes it into `--out`.
async fn issue(api: &HubApi, endpoint: &str, args: SiteIssueArgs) -> anyhow::Result<()> {
    if args.if_missing && fleet_trust::SiteBundlePaths::new(&args.out).leaf_creds().exists() {
        eprintln!(
            "site/{}: {} already holds a bundle; nothing to do",
            args.id,
            args.out.display()
        );
        return Ok(());
    }
    let request = SiteIssueRequest {
        id: args.id.clone(),
        tls_names: args.tls_names,
    };
    let bundle: SiteBundleView = api.call(endpoint, &request).await?;
    let hub_leaf = args.hub_leaf.unwrap_or_else(|| bundle.hub_leaf_url.clone());
    super::site_bundle_files::write(&args.out, &bundle, &hub_leaf)?;
    eprintln!(
        "site/{} bundle written to {}: start the site with `edgefleet site --bundle {} --data-dir DIR`",
        args.id,
        args.out.display(),
        args.out.display()
    );
    if bundle.local_reader_seed.is_some() {
        eprintln!(
            "its local reader key {}: `edgefleet logs --site {} --site-nats URL --reader-key {} --site-ca {}` reads              the site's log lines at the site while the hub is away",
            args.out.join("local-reader.nk").display(),
            args.id,
            args.out.join("local-reader.nk").display(),
            args.out.join("site-ca.pem").display()
        );
    }
    Ok(())
}
