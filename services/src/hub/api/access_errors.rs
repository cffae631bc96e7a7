//! Trust-root refusals as API errors: an existing or unknown site or user is the caller's to fix (409/404), a
//! reserved id is a bad request; anything else (a file the hub cannot write, a push the server refused) is the
//! hub's (500).

use crate::api_types::ApiError;
use fleet_trust::TrustError;

/// The API error for a failed trust operation.
pub fn access_error(e: anyhow::Error) -> ApiError {
    match e.downcast_ref::<TrustError>() {
        Some(TrustError::SiteExists { .. } | TrustError::UserExists { .. }) => ApiError::conflict(e.to_string()),
        Some(TrustError::UnknownSite { .. } | TrustError::UnknownUser { .. }) => ApiError::not_found(e.to_string()),
        Some(TrustError::ReservedSiteId { .. }) => ApiError::bad_request(e.to_string()),
        _ => ApiError::internal(format!("{e:#}")),
    }
}
