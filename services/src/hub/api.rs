//! The hub API: a NATS micro service named `edgefleet` (discoverable through `$SRV.PING|INFO|STATS`), JSON in
//! and out, endpoints under `ef.api.v1.`. Every error is a JSON `{code, message}` with the micro error headers.

use super::fleet_view::FleetView;
use super::site_directory::SiteDirectory;
use actors::AnyAggregate;
use async_nats::service::{Service, ServiceExt};
use events::AggregateKind;
use futures::StreamExt;
use serde::Serialize;
use std::rc::Rc;

/// One row of `nodes ls`.
#[derive(Clone, Debug, Serialize)]
pub struct NodeRow {
    /// Site id.
    pub site: String,
    /// Node id.
    pub node: String,
    /// Lifecycle (`Unassigned`, `Assigned`, `Provisioning`, `Ready`, `Failed`, `Resetting`).
    pub state: String,
    /// Cluster it is a member of.
    pub cluster: Option<String>,
    /// Role in that cluster.
    pub role: Option<String>,
    /// Milliseconds since the site last heard it (as of the site's last beacon).
    pub last_heartbeat_ms_ago: Option<u64>,
    /// True while the site reports it silent.
    pub silent: bool,
}

/// A running API service.
pub struct Api {
    service: Service,
    tasks: Vec<actix_rt::task::JoinHandle<()>>,
}

impl Api {
    /// Stops answering.
    pub async fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
        if let Err(e) = self.service.stop().await {
            tracing::warn!(error = %e, "API service did not stop cleanly");
        }
    }
}

/// Starts the service and its endpoints.
pub async fn start(
    client: async_nats::Client,
    directory: Rc<SiteDirectory>,
    view: Rc<FleetView>,
) -> anyhow::Result<Api> {
    let service = client
        .service_builder()
        .description("edgefleet hub API")
        .start("edgefleet", env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| anyhow::anyhow!("starting the API service: {e}"))?;
    let v1 = service.group(events::subject::API_PREFIX);
    let mut sites = v1
        .endpoint("sites.list")
        .await
        .map_err(|e| anyhow::anyhow!("endpoint sites.list: {e}"))?;
    let mut nodes = v1
        .endpoint("nodes.list")
        .await
        .map_err(|e| anyhow::anyhow!("endpoint nodes.list: {e}"))?;
    let sites_directory = directory.clone();
    let sites_task = actix_rt::spawn(async move {
        while let Some(request) = sites.next().await {
            let rows = sites_directory.rows().await;
            respond(&request, &rows).await;
        }
    });
    let nodes_task = actix_rt::spawn(async move {
        while let Some(request) = nodes.next().await {
            let rows = node_rows(&view, &directory).await;
            respond(&request, &rows).await;
        }
    });
    Ok(Api {
        service,
        tasks: vec![sites_task, nodes_task],
    })
}

/// Every registered node with its replayed lifecycle and the last heartbeat age its site reported.
async fn node_rows(view: &FleetView, directory: &SiteDirectory) -> Vec<NodeRow> {
    let links: std::collections::BTreeMap<String, super::site_directory::SiteLink> = directory
        .sites()
        .into_iter()
        .filter_map(|site| directory.link(&site).map(|link| (site.to_string(), link)))
        .collect();
    view.with(|fleet| {
        fleet
            .aggregates
            .iter()
            .filter(|(aggregate, _)| aggregate.kind == AggregateKind::Node)
            .filter_map(|(aggregate, entry)| match &entry.state {
                AnyAggregate::Node(node) if node.status.inventory.is_some() => Some(NodeRow {
                    site: aggregate.scope.to_string(),
                    node: aggregate.id.to_string(),
                    state: format!("{:?}", node.lifecycle()),
                    cluster: node.status.membership.as_ref().map(|m| m.cluster.to_string()),
                    role: node.status.membership.as_ref().map(|m| m.role.as_str().to_string()),
                    last_heartbeat_ms_ago: links.get(aggregate.scope.as_str()).and_then(|link| {
                        let at_beacon = link.node_heartbeat_ms_ago.get(aggregate.id.as_str())?;
                        let since_beacon = link.last_seen.map_or(0, |t| t.elapsed().as_millis() as u64);
                        Some(at_beacon + since_beacon)
                    }),
                    silent: node.status.silent_since.is_some(),
                }),
                _ => None,
            })
            .collect()
    })
    .await
}

async fn respond<T: Serialize>(request: &async_nats::service::Request, value: &T) {
    let reply = match serde_json::to_vec(value) {
        Ok(bytes) => Ok(bytes.into()),
        Err(e) => Err(async_nats::service::error::Error {
            status: format!("encoding reply: {e}"),
            code: 500,
        }),
    };
    if let Err(e) = request.respond(reply).await {
        tracing::warn!(error = %e, "API reply not sent");
    }
}
