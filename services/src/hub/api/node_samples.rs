//! `ef.api.v1.node_samples.get`: a node's recent series from the hub's copy of its site's telemetry stream (in the
//! site's account), bounded in time and in batches read.

use super::context::Call;
use crate::api_types::node_samples::{NodeSamplesRequest, NodeSamplesView, DEFAULT_MINUTES, MAX_MINUTES};
use crate::api_types::ApiError;
use events::subject::telemetry_stream;
use telemetry::metric_window::{read_metric_window, MetricWindow};

/// Most batches read for one answer (a day at one batch every 15 s is 5,760).
const MAX_BATCHES: usize = 6_000;

/// `node_samples.get`.
pub async fn get(context: &Call<'_>, request: NodeSamplesRequest) -> Result<NodeSamplesView, ApiError> {
    super::sites::known(context, &request.site)?;
    let minutes = request.minutes.unwrap_or(DEFAULT_MINUTES);
    if minutes == 0 || minutes > MAX_MINUTES {
        return Err(ApiError::bad_request(format!(
            "minutes must be 1 to {MAX_MINUTES}, not {minutes}"
        )));
    }
    let account = context
        .directory
        .account(&request.site)
        .ok_or_else(|| ApiError::unavailable(format!("site {} is not attached at this hub yet", request.site)))?;
    let since_unix_ms = actors::process_clock::system_wall_ms().saturating_sub(u64::from(minutes) * 60_000);
    let stream = telemetry_stream(&request.site);
    let nodes = [request.id.clone()];
    let window = MetricWindow {
        stream: &stream,
        site: &request.site,
        nodes: &nodes,
        stored_since_ms: since_unix_ms,
        max_batches: MAX_BATCHES,
    };
    let batches = read_metric_window(&account.js, &window)
        .await
        .map_err(|e| ApiError::unavailable(format!("reading {stream}: {e}")))?;
    let batches: Vec<telemetry::MetricBatch> = batches.into_iter().map(|(_, batch)| batch).collect();
    Ok(NodeSamplesView {
        site: request.site.to_string(),
        node: request.id.to_string(),
        since_unix_ms,
        batches: batches.len(),
        series: telemetry::recent_series::recent_series(&batches),
    })
}
