//! `ef.api.v1.history.list`: an aggregate's events merged across the hub's and its site's streams, a page at a
//! time. Read from the log (the projection holds states, not events).

use super::context::Call;
use crate::api_types::history::{HistoryPage, HistoryRecord, HistoryRequest, HISTORY_PAGE};
use crate::api_types::ApiError;

/// `history.list`.
pub async fn list(context: &Call<'_>, request: HistoryRequest) -> Result<HistoryPage, ApiError> {
    let aggregate = crate::aggregate_arg::parse_aggregate(&request.aggregate)
        .map_err(|e| ApiError::bad_request(format!("aggregate: {e:#}")))?;
    let entries = replay::history(&context.log, &aggregate)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let events = entries
        .iter()
        .skip(request.from)
        .take(HISTORY_PAGE)
        .map(|e| HistoryRecord {
            number: e.number,
            stream: e.stream.clone(),
            seq: e.seq,
            stored_unix_ms: e.stored_unix_ms,
            envelope: HistoryRecord::encode_envelope(&e.recorded.envelope),
            last_in_message: e.recorded.last_in_message,
        })
        .collect();
    Ok(HistoryPage {
        events,
        total: entries.len(),
    })
}
