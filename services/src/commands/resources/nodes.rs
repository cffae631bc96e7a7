//! `edgefleet nodes ls|get|assign|unassign|reset|label`.

use super::api_client::HubApi;
use super::tables::{ago, labels, or_dash, pairs, print_list, print_one, Column};
use crate::api_types::requests::{Assign, Label, NodeFilter, NodePosition, NodeRef, NODE_PAGE};
use crate::api_types::views::NodeView;
use crate::cli::{NodesCommand, OutputFormat};

fn state(n: &NodeView) -> String {
    if n.silent {
        format!("{} (silent)", n.state)
    } else {
        n.state.to_string()
    }
}

const COLUMNS: &[Column<'static, NodeView>] = &[
    ("SITE", &|n: &NodeView| n.site.clone()),
    ("NODE", &|n: &NodeView| n.id.clone()),
    ("STATE", &state),
    ("CLUSTER", &|n: &NodeView| or_dash(n.cluster.as_ref())),
    ("ROLE", &|n: &NodeView| or_dash(n.role)),
    ("OS", &|n: &NodeView| or_dash(n.os_version.as_ref())),
    ("LAST HEARTBEAT", &|n: &NodeView| ago(n.last_heartbeat_ms_ago)),
];

const DETAIL: &[Column<'static, NodeView>] = &[
    ("NODE", &|n: &NodeView| n.id.clone()),
    ("STATE", &state),
    ("ASSIGNED", &|n: &NodeView| or_dash(n.assigned_cluster.as_ref())),
    ("LABELS", &|n: &NodeView| labels(&n.labels)),
    ("GEN", &|n: &NodeView| n.generation.to_string()),
    ("OBSERVED", &|n: &NodeView| n.observed_generation.to_string()),
    ("SLOT", &|n: &NodeView| or_dash(n.os_slot)),
];

/// Every node `filter` selects, page by page (`nodes.list` answers at most [`NODE_PAGE`] at a time).
pub async fn list_all(api: &HubApi, mut filter: NodeFilter) -> anyhow::Result<Vec<NodeView>> {
    let mut nodes = Vec::new();
    loop {
        let page: Vec<NodeView> = api.call("nodes.list", &filter).await?;
        let more = page.len() >= filter.limit.unwrap_or(NODE_PAGE).min(NODE_PAGE);
        filter.after = match (more, page.last()) {
            (true, Some(last)) => Some(NodePosition {
                site: events::Token::new(&last.site)?,
                id: events::Token::new(&last.id)?,
            }),
            _ => None,
        };
        nodes.extend(page);
        if filter.after.is_none() {
            return Ok(nodes);
        }
    }
}

/// Runs a nodes subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: NodesCommand) -> anyhow::Result<()> {
    let one = |node: &NodeView| print_one(format, node, COLUMNS);
    match command {
        NodesCommand::Ls { site, state, labels } => {
            let filter = NodeFilter {
                site,
                state,
                labels: pairs(labels),
                ..NodeFilter::default()
            };
            let nodes = list_all(api, filter).await?;
            print_list(format, &nodes, COLUMNS)
        }
        NodesCommand::Get { id, site } => {
            let node: NodeView = api.call("nodes.get", &NodeRef { id, site }).await?;
            if format == crate::cli::OutputFormat::Table {
                print_one(format, &node, DETAIL)?;
                println!();
            }
            one(&node)
        }
        NodesCommand::Assign {
            id,
            cluster,
            role,
            site,
        } => {
            let request = Assign {
                id: id.clone(),
                site,
                cluster: cluster.clone(),
                role,
            };
            let node: NodeView = api.call("nodes.assign", &request).await?;
            eprintln!("node/{id} assigned to {cluster} as {role}");
            one(&node)
        }
        NodesCommand::Unassign { id, site } => {
            let node: NodeView = api.call("nodes.unassign", &NodeRef { id: id.clone(), site }).await?;
            eprintln!("node/{id} unassigned");
            one(&node)
        }
        NodesCommand::Reset { id, site } => {
            let node: NodeView = api.call("nodes.reset", &NodeRef { id: id.clone(), site }).await?;
            eprintln!("node/{id} reset to bootstrap requested");
            one(&node)
        }
        NodesCommand::Label { id, labels, site } => {
            let request = Label {
                id: id.clone(),
                site,
                labels: pairs(labels),
            };
            let node: NodeView = api.call("nodes.label", &request).await?;
            eprintln!("node/{id} labelled");
            one(&node)
        }
    }
}
