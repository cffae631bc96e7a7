//! Renders a [`View`] for a signed-in user: asks the API (through the bridge, as that user) for what the view shows
//! and hands it to the page functions. The full page and the live stream both come through here.

use super::api_bridge::{ApiBridge, SignedIn};
use super::attention::{attention, FleetViews};
use super::pages::{first_screen, fleet_tables, history_page, node_page, rollout_pages};
use super::passes::Pass;
use super::view::View;
use crate::api_types::history::HistoryPage;
use crate::api_types::node_samples::NodeSamplesView;
use crate::api_types::requests::NODE_PAGE;
use crate::api_types::views::{ClusterView, NodeView, QuarantineView, RolloutView, SiteView};
use crate::api_types::ApiError;
use actors::rollout::explain::RolloutExplanation;
use fleet_trust::OperatorRole;
use maud::Markup;
use serde_json::json;

/// How far back a node's sparklines reach.
const SPARKLINE_MINUTES: u32 = 30;

/// What one user sees of the hub.
pub struct Renderer<'a> {
    /// The API, as the user.
    pub bridge: &'a ApiBridge,
    /// The user's session.
    pub pass: &'a Pass,
    /// Who they are now.
    pub who: &'a SignedIn,
}

impl Renderer<'_> {
    /// The view's content (without the page around it).
    pub async fn view(&self, view: &View) -> Result<Markup, ApiError> {
        let now = actors::process_clock::system_wall_ms();
        Ok(match view {
            View::Attention => {
                let (sites, nodes, clusters, rollouts, quarantine) = (
                    self.sites().await?,
                    self.nodes().await?,
                    self.clusters().await?,
                    self.rollouts().await?,
                    self.quarantine().await?,
                );
                let fleet = FleetViews {
                    sites: &sites,
                    nodes: &nodes,
                    clusters: &clusters,
                    rollouts: &rollouts,
                    quarantine: &quarantine,
                };
                first_screen::first_screen(&attention(&fleet, now))
            }
            View::Sites(filter) => fleet_tables::sites(&self.sites().await?, *filter, now),
            View::Nodes(filter, site) => fleet_tables::nodes(&self.nodes().await?, *filter, site.as_deref()),
            View::Node(site, id) => {
                let node: NodeView = self.call("nodes.get", json!({ "id": id, "site": site })).await?;
                let samples: NodeSamplesView = self
                    .call(
                        "node_samples.get",
                        json!({ "id": id, "site": site, "minutes": SPARKLINE_MINUTES }),
                    )
                    .await?;
                node_page::node(&node, &samples, SPARKLINE_MINUTES)
            }
            View::Clusters => fleet_tables::clusters(&self.clusters().await?),
            View::Quarantine => fleet_tables::quarantine(&self.quarantine().await?),
            View::Rollouts(filter) => rollout_pages::rollouts(&self.rollouts().await?, *filter),
            View::Rollout(id) => {
                let rollout: RolloutView = self.call("rollouts.get", json!({ "id": id })).await?;
                let explanation: RolloutExplanation =
                    self.call("rollout_explanations.get", json!({ "id": id })).await?;
                let may_act = self.who.caller.role != OperatorRole::Viewer;
                rollout_pages::rollout(&rollout, &explanation, may_act)
            }
            View::History(aggregate, at) => {
                let parsed = crate::aggregate_arg::parse_aggregate(aggregate)
                    .map_err(|e| ApiError::bad_request(format!("aggregate {aggregate:?}: {e:#}")))?;
                let mut entries = Vec::new();
                loop {
                    let page: HistoryPage = self
                        .call("history.list", json!({ "aggregate": aggregate, "from": entries.len() }))
                        .await?;
                    let done = page.events.is_empty() || entries.len() + page.events.len() >= page.total;
                    entries.extend(crate::commands::history::entries_of(page).map_err(ApiError::internal)?);
                    if done {
                        break;
                    }
                }
                history_page::history(&parsed, &entries, *at)
            }
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
        body: serde_json::Value,
    ) -> Result<T, ApiError> {
        self.bridge.call(self.pass, endpoint, body).await
    }

    async fn sites(&self) -> Result<Vec<SiteView>, ApiError> {
        self.call("sites.list", json!({})).await
    }

    async fn clusters(&self) -> Result<Vec<ClusterView>, ApiError> {
        self.call("clusters.list", json!({})).await
    }

    async fn rollouts(&self) -> Result<Vec<RolloutView>, ApiError> {
        self.call("rollouts.list", json!({})).await
    }

    async fn quarantine(&self) -> Result<Vec<QuarantineView>, ApiError> {
        self.call("quarantine.list", json!({})).await
    }

    /// Every node, a page at a time.
    async fn nodes(&self) -> Result<Vec<NodeView>, ApiError> {
        let mut nodes: Vec<NodeView> = Vec::new();
        loop {
            let after = nodes.last().map(|n| json!({ "site": n.site, "id": n.id }));
            let mut body = json!({ "limit": NODE_PAGE });
            if let Some(after) = after {
                body["after"] = after;
            }
            let page: Vec<NodeView> = self.call("nodes.list", body).await?;
            let full = page.len() == NODE_PAGE;
            nodes.extend(page);
            if !full {
                return Ok(nodes);
            }
        }
    }
}
