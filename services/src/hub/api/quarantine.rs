//! `ef.api.v1.quarantine.*`: the messages the hub could not read — stream, sequence, subject, reason and first
//! bytes — so corrupt or forged events are visible, not just WARN lines.

use super::context::Call;
use crate::api_types::requests::{QuarantineFilter, QuarantineRef};
use crate::api_types::views::QuarantineView;
use crate::api_types::ApiError;

/// `quarantine.list`.
pub fn list(context: &Call<'_>, filter: QuarantineFilter) -> Vec<QuarantineView> {
    let stream = filter.site.as_ref().map(events::subject::site_stream);
    context
        .projection
        .quarantine()
        .entries()
        .iter()
        .filter(|m| stream.as_ref().is_none_or(|s| *s == m.stream))
        .map(QuarantineView::from)
        .collect()
}

/// `quarantine.get`.
pub fn get(context: &Call<'_>, request: QuarantineRef) -> Result<QuarantineView, ApiError> {
    context
        .projection
        .quarantine()
        .get(&request.stream, request.seq)
        .map(|m| QuarantineView::from(&m))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "nothing quarantined at {}:{}",
                crate::api_types::error::sanitize(&request.stream, 64),
                request.seq
            ))
        })
}
