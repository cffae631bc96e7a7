//! The hub API: a NATS micro service named `edgefleet` (discoverable through `$SRV.PING|INFO|STATS`), JSON in
//! and out, endpoints `ef.api.v1.<resource>.<verb>` (`crate::api_types`). Reads are answered from the hub's
//! projection; writes go through the hub's actors (decide + append with optimistic concurrency) and answer once the
//! projection shows them, so a client reads its own writes. Every error is a JSON body `{"error":{"code","message"}}`
//! plus the micro error headers, sanitized and bounded. A malformed or refused request changes nothing.

mod access_errors;
mod apps;
mod caller;
mod clusters;
mod config;
mod context;
mod dashboard_links;
mod history;
mod logs;
mod node_samples;
mod nodes;
mod placements;
mod profiles;
mod quarantine;
mod rollouts;
mod sites;
mod users;

use crate::api_types::endpoints::Endpoint;
use crate::api_types::error::ErrorBody;
use crate::api_types::{ApiError, ENDPOINTS};
use actors::rollout::RolloutCommand;
use async_nats::service::{Service, ServiceExt};
use bytes::Bytes;
use context::Call;
pub use context::{ApiContext, DashboardLinks};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::rc::Rc;
use tracing::Instrument;

/// Largest request body accepted.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

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
pub async fn start(client: async_nats::Client, context: Rc<ApiContext>) -> anyhow::Result<Api> {
    let service = client
        .service_builder()
        .description("edgefleet hub API: sites, nodes, profiles, clusters, rollouts, apps, placements, config, quarantine, history, logs, users, dashboard links")
        .start("edgefleet", env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| anyhow::anyhow!("starting the API service: {e}"))?;
    let v1 = service.group(events::subject::API_PREFIX);
    let mut tasks = Vec::new();
    let requests = Rc::new(std::cell::Cell::new(0u64));
    for spec in ENDPOINTS {
        let name = spec.name;
        let mut endpoint = v1
            .endpoint(name)
            .await
            .map_err(|e| anyhow::anyhow!("endpoint {name}: {e}"))?;
        let (context, requests) = (context.clone(), requests.clone());
        tasks.push(actix_rt::spawn(async move {
            while let Some(request) = endpoint.next().await {
                let context = context.clone();
                requests.set(requests.get() + 1);
                let span = tracing::info_span!("api", endpoint = name, request = requests.get());
                actix_rt::spawn(
                    async move {
                        let result = match authorize(&context, &request, spec) {
                            Ok(caller) => {
                                let call = Call {
                                    context: &context,
                                    caller: &caller,
                                };
                                handle(&call, name, &request.message.payload).await
                            }
                            Err(e) => Err(e),
                        };
                        if let Err(e) = &result {
                            tracing::debug!(code = e.code, message = %e.message, "refused");
                        }
                        respond(&request, result).await;
                    }
                    .instrument(span),
                );
            }
        }));
    }
    Ok(Api { service, tasks })
}

/// The request's verified caller, if its role may call `endpoint`.
fn authorize(
    context: &ApiContext,
    request: &async_nats::service::Request,
    endpoint: &Endpoint,
) -> Result<fleet_trust::Caller, ApiError> {
    let caller = caller::caller_of(request.message.headers.as_ref(), &context.trust)?;
    caller::require(&caller, endpoint.role, endpoint.name)?;
    tracing::debug!(caller = %caller.name, role = %caller.role, "request");
    Ok(caller)
}

/// Calls `endpoint` as `caller` from inside the hub (the dashboard, for its signed-in user): the same role check and
/// the same handling as a request over NATS.
pub(crate) async fn call_as(
    context: &ApiContext,
    caller: &fleet_trust::Caller,
    endpoint: &str,
    body: &Bytes,
) -> Result<serde_json::Value, ApiError> {
    let spec = ENDPOINTS
        .iter()
        .find(|e| e.name == endpoint)
        .ok_or_else(|| ApiError::not_found(format!("no endpoint {endpoint}")))?;
    caller::require(caller, spec.role, spec.name)?;
    handle(&Call { context, caller }, spec.name, body).await
}

/// Parses a request body: `{}` when empty; otherwise a JSON object (not an array, not a scalar), unknown fields
/// refused, size bounded.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(ApiError::too_large(body.len(), MAX_REQUEST_BYTES));
    }
    let value: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("malformed request: {e}")))?
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "malformed request: the body must be a JSON object ({…})",
        ));
    }
    serde_json::from_value(value).map_err(|e| ApiError::bad_request(format!("malformed request: {e}")))
}

fn to_json<T: Serialize>(value: T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(format!("encoding the reply: {e}")))
}

async fn handle(context: &Call<'_>, endpoint: &str, body: &Bytes) -> Result<serde_json::Value, ApiError> {
    match endpoint {
        "sites.list" => to_json(sites::list(context, parse(body)?)),
        "sites.get" => to_json(sites::get(context, parse(body)?)?),
        "sites.label" => to_json(sites::label(context, parse(body)?).await?),
        "sites.add" => to_json(sites::add(context, parse(body)?).await?),
        "sites.rotate" => to_json(sites::rotate(context, parse(body)?).await?),
        "sites.revoke" => to_json(sites::revoke(context, parse(body)?).await?),
        "nodes.list" => to_json(nodes::list(context, parse(body)?)),
        "nodes.get" => to_json(nodes::get(context, parse(body)?)?),
        "nodes.assign" => to_json(nodes::assign(context, parse(body)?).await?),
        "nodes.unassign" => to_json(nodes::unassign(context, parse(body)?).await?),
        "nodes.reset" => to_json(nodes::reset(context, parse(body)?).await?),
        "nodes.label" => to_json(nodes::label(context, parse(body)?).await?),
        "node_samples.get" => to_json(node_samples::get(context, parse(body)?).await?),
        "profiles.apply" => to_json(profiles::apply(context, parse(body)?).await?),
        "profiles.list" => to_json(profiles::list(context, parse(body)?)),
        "profiles.get" => to_json(profiles::get(context, parse(body)?)?),
        "clusters.create" => to_json(clusters::create(context, parse(body)?).await?),
        "clusters.list" => to_json(clusters::list(context, parse(body)?)),
        "clusters.get" => to_json(clusters::get(context, parse(body)?)?),
        "clusters.delete" => to_json(clusters::delete(context, parse(body)?).await?),
        "clusters.upgrade" => to_json(clusters::upgrade(context, parse(body)?).await?),
        "clusters.label" => to_json(clusters::label(context, parse(body)?).await?),
        "rollouts.create" => to_json(rollouts::create(context, parse(body)?).await?),
        "rollouts.list" => to_json(rollouts::list(context, parse(body)?)),
        "rollouts.get" => to_json(rollouts::get(context, parse(body)?)?),
        "rollouts.pause" => to_json(rollouts::command(context, parse(body)?, RolloutCommand::Pause).await?),
        "rollouts.resume" => to_json(rollouts::command(context, parse(body)?, RolloutCommand::Resume).await?),
        "rollouts.abort" => to_json(rollouts::command(context, parse(body)?, RolloutCommand::Abort).await?),
        "rollout_explanations.get" => to_json(rollouts::explain(context, parse(body)?).await?),
        "quarantine.list" => to_json(quarantine::list(context, parse(body)?)),
        "quarantine.get" => to_json(quarantine::get(context, parse(body)?)?),
        "history.list" => to_json(history::list(context, parse(body)?).await?),
        "logs.list" => to_json(logs::list(context, parse(body)?).await?),
        "apps.apply" => to_json(apps::apply(context, parse(body)?).await?),
        "apps.list" => to_json(apps::list(context, parse(body)?)),
        "apps.get" => to_json(apps::get(context, parse(body)?)?),
        "placements.apply" => to_json(placements::apply(context, parse(body)?).await?),
        "placements.list" => to_json(placements::list(context, parse(body)?)),
        "placements.get" => to_json(placements::get(context, parse(body)?)?),
        "placements.delete" => to_json(placements::delete(context, parse(body)?).await?),
        "placement_explanations.get" => to_json(placements::explanation(context, parse(body)?)?),
        "placement_dry_runs.get" => to_json(placements::dry_run(context, parse(body)?).await?),
        "config.set" => to_json(config::set(context, parse(body)?).await?),
        "config.delete" => to_json(config::delete(context, parse(body)?).await?),
        "config.list" => to_json(config::list(context, parse(body)?)),
        "config.get" => to_json(config::get(context, parse(body)?)?),
        "config_sites.list" => to_json(config::sites(context, parse(body)?)),
        "users.list" => to_json(users::list(context, parse(body)?)?),
        "users.add" => to_json(users::add(context, parse(body)?).await?),
        "users.revoke" => to_json(users::revoke(context, parse(body)?).await?),
        "dashboard_links.get" => to_json(dashboard_links::get(context, parse(body)?)?),
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
            // Sanitized: printable ASCII, bounded — a header value can never break the reply.
            headers.insert(async_nats::service::NATS_SERVICE_ERROR, error.header_message().as_str());
            headers.insert(
                async_nats::service::NATS_SERVICE_ERROR_CODE,
                error.code.to_string().as_str(),
            );
            (serde_json::to_vec(&ErrorBody { error }).unwrap_or_default(), headers)
        }
    };
    if let Err(e) = request.respond_with_headers(Ok(body.into()), headers).await {
        tracing::warn!(error = %e, "API reply not sent");
    }
}
