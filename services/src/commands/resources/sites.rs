//! `edgefleet sites ls|get|label`.

use super::api_client::HubApi;
use super::tables::{labels, or_dash, pairs, print_list, print_one, Column};
use crate::api_types::requests::{Empty, Label, SiteRef};
use crate::api_types::views::{SiteConnection, SiteView};
use crate::cli::{OutputFormat, SitesCommand};
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
    ("EVENTS AT HUB", &|s: &SiteView| s.copied_events.to_string()),
    ("QUARANTINED", &|s: &SiteView| s.quarantined.to_string()),
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
    }
}
