//! The hub API: a NATS micro service named `edgefleet` (discoverable through `$SRV.PING|INFO|STATS`), JSON in
//! and out, endpoints `ef.api.v1.<resource>.<verb>`. Every error is a JSON body `{"error":{"code","message"}}`
//! plus the micro error headers (`Nats-Service-Error`, `Nats-Service-Error-Code`). A malformed or refused request
//! changes nothing.

mod clusters;
mod error;
mod nodes;
mod profiles;
mod requests;
mod rollouts;
mod sites;
mod views;

use super::fleet_view::FleetView;
use super::site_directory::SiteDirectory;
use crate::registries::Registries;
use actors::rollout::RolloutCommand;
use async_nats::service::{Service, ServiceExt};
use bytes::Bytes;
pub use error::ApiError;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::rc::Rc;

/// Largest request body accepted.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// Every endpoint, as `resource.verb` under `ef.api.v1`.
pub const ENDPOINTS: &[&str] = &[
    "sites.list",
    "sites.get",
    "sites.label",
    "nodes.list",
    "nodes.get",
    "nodes.assign",
    "nodes.unassign",
    "nodes.reset",
    "nodes.label",
    "profiles.apply",
    "profiles.list",
    "profiles.get",
    "clusters.create",
    "clusters.list",
    "clusters.get",
    "clusters.delete",
    "clusters.upgrade",
    "clusters.label",
    "rollouts.create",
    "rollouts.list",
    "rollouts.get",
    "rollouts.pause",
    "rollouts.resume",
    "rollouts.abort",
];

/// What handlers work with.
pub struct ApiContext {
    /// Sites and their links.
    pub directory: Rc<SiteDirectory>,
    /// The replayed fleet.
    pub view: Rc<FleetView>,
    /// The hub's actors (intents are decided and appended here).
    pub hub: Registries,
    /// The hub's JetStream (for read-your-writes catch-ups of the view).
    pub js: async_nats::jetstream::Context,
}

impl ApiContext {
    /// Aggregates of `kind` with `id`, from the fleet view; on a miss the view catches up once first, so an
    /// aggregate written a moment ago is found.
    pub async fn find(&self, kind: events::AggregateKind, id: &events::Token) -> Vec<events::AggregateRef> {
        let lookup = || async {
            self.view
                .with(|fleet| {
                    fleet
                        .aggregates
                        .keys()
                        .filter(|a| a.kind == kind && &a.id == id)
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .await
        };
        let found = lookup().await;
        if !found.is_empty() {
            return found;
        }
        self.view.catch_up(&self.directory, &self.js).await;
        lookup().await
    }
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

/// Starts the service and every endpoint.
pub async fn start(client: async_nats::Client, context: ApiContext) -> anyhow::Result<Api> {
    let service = client
        .service_builder()
        .description("edgefleet hub API: sites, nodes, profiles, clusters")
        .start("edgefleet", env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| anyhow::anyhow!("starting the API service: {e}"))?;
    let v1 = service.group(events::subject::API_PREFIX);
    let context = Rc::new(context);
    let mut tasks = Vec::new();
    for name in ENDPOINTS {
        let mut endpoint = v1
            .endpoint(*name)
            .await
            .map_err(|e| anyhow::anyhow!("endpoint {name}: {e}"))?;
        let context = context.clone();
        tasks.push(actix_rt::spawn(async move {
            while let Some(request) = endpoint.next().await {
                let context = context.clone();
                actix_rt::spawn(async move {
                    let result = handle(&context, name, &request.message.payload).await;
                    respond(&request, result).await;
                });
            }
        }));
    }
    Ok(Api { service, tasks })
}

/// Parses a request body: `{}` when empty, unknown fields refused, size bounded.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(ApiError::too_large(body.len(), MAX_REQUEST_BYTES));
    }
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("malformed request: {e}")))
}

fn to_json<T: Serialize>(value: T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(format!("encoding the reply: {e}")))
}

async fn handle(context: &ApiContext, endpoint: &str, body: &Bytes) -> Result<serde_json::Value, ApiError> {
    match endpoint {
        "sites.list" => to_json(sites::list(context, parse(body)?).await?),
        "sites.get" => to_json(sites::get(context, parse(body)?).await?),
        "sites.label" => to_json(sites::label(context, parse(body)?).await?),
        "nodes.list" => to_json(nodes::list(context, parse(body)?).await?),
        "nodes.get" => to_json(nodes::get(context, parse(body)?).await?),
        "nodes.assign" => to_json(nodes::assign(context, parse(body)?).await?),
        "nodes.unassign" => to_json(nodes::unassign(context, parse(body)?).await?),
        "nodes.reset" => to_json(nodes::reset(context, parse(body)?).await?),
        "nodes.label" => to_json(nodes::label(context, parse(body)?).await?),
        "profiles.apply" => to_json(profiles::apply(context, parse(body)?).await?),
        "profiles.list" => to_json(profiles::list(context, parse(body)?).await?),
        "profiles.get" => to_json(profiles::get(context, parse(body)?).await?),
        "clusters.create" => to_json(clusters::create(context, parse(body)?).await?),
        "clusters.list" => to_json(clusters::list(context, parse(body)?).await?),
        "clusters.get" => to_json(clusters::get(context, parse(body)?).await?),
        "clusters.delete" => to_json(clusters::delete(context, parse(body)?).await?),
        "clusters.upgrade" => to_json(clusters::upgrade(context, parse(body)?).await?),
        "clusters.label" => to_json(clusters::label(context, parse(body)?).await?),
        "rollouts.create" => to_json(rollouts::create(context, parse(body)?).await?),
        "rollouts.list" => to_json(rollouts::list(context, parse(body)?).await?),
        "rollouts.get" => to_json(rollouts::get(context, parse(body)?).await?),
        "rollouts.pause" => to_json(rollouts::command(context, parse(body)?, RolloutCommand::Pause).await?),
        "rollouts.resume" => to_json(rollouts::command(context, parse(body)?, RolloutCommand::Resume).await?),
        "rollouts.abort" => to_json(rollouts::command(context, parse(body)?, RolloutCommand::Abort).await?),
        other => Err(ApiError::not_found(format!("no endpoint {other}"))),
    }
}

async fn respond(request: &async_nats::service::Request, result: Result<serde_json::Value, ApiError>) {
    let (body, headers) = match result {
        Ok(value) => (
            serde_json::to_vec(&value).unwrap_or_default(),
            async_nats::HeaderMap::new(),
        ),
        Err(error) => {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::service::NATS_SERVICE_ERROR, error.message.as_str());
            headers.insert(
                async_nats::service::NATS_SERVICE_ERROR_CODE,
                error.code.to_string().as_str(),
            );
            (serde_json::to_vec(&error.body()).unwrap_or_default(), headers)
        }
    };
    if let Err(e) = request.respond_with_headers(Ok(body.into()), headers).await {
        tracing::warn!(error = %e, "API reply not sent");
    }
}
