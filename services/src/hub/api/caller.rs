//! Who is calling the API: the identity the hub's nats-server stamped on the request (`Nats-Request-Info`, set by
//! the server on every request that crosses the API account's shared import and overwritten if a client forged
//! it), verified against the fleet's trust root — never a name the client claims. It is what history records as
//! `by`, and what each endpoint's role is checked against.

use crate::api_types::ApiError;
use fleet_trust::{Caller, OperatorRole, TrustRoot, REQUEST_INFO_HEADER};

/// The verified caller of a request with `headers`.
pub fn caller_of(headers: Option<&async_nats::HeaderMap>, trust: &TrustRoot) -> Result<Caller, ApiError> {
    let info = headers.and_then(|h| h.get(REQUEST_INFO_HEADER)).ok_or_else(|| {
        ApiError::unauthorized("the request carries no identity: call the API with edgefleet credentials")
    })?;
    trust
        .identify_request(info.as_str())
        .map_err(|e| ApiError::unauthorized(format!("unknown caller: {e}")))
}

/// Refuses `caller` unless its role is at least `needed`.
pub fn require(caller: &Caller, needed: OperatorRole, endpoint: &str) -> Result<(), ApiError> {
    if rank(caller.role) >= rank(needed) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "permission denied: {} ({}) may not call {endpoint} ({}): it needs the {needed} role",
        caller.name,
        caller.role,
        crate::api_types::endpoint_subject(endpoint)
    )))
}

fn rank(role: OperatorRole) -> u8 {
    match role {
        OperatorRole::Viewer => 0,
        OperatorRole::Operator => 1,
        OperatorRole::Admin => 2,
    }
}
