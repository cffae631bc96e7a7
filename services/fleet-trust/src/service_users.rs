//! The claims of the hub's own users (not people): the system user that pushes account JWTs, the hub process in
//! the HUB account, and the hub process's API service in the API account. All are full users of their account on
//! client connections only; none of them is ever a caller of the hub API ([`crate::TrustRoot::identify_caller`]).

use crate::user_claims::{ConnectionType, UserClaims};
use crate::user_permissions::UserPermissions;

/// A full user of its account on standard client connections.
fn full_client() -> UserClaims {
    UserClaims::new(UserPermissions::default(), &[ConnectionType::Standard])
}

/// The system account's user (`trust/system.creds`).
pub fn system_user() -> UserClaims {
    full_client()
}

/// The hub process in the HUB account (`trust/hub.creds`): manages `EF_INTENT` and the image bucket.
pub fn hub_process_user() -> UserClaims {
    full_client()
}

/// The hub process in the TRUST account (`trust/trust.creds`): keeps the `ef-trust` bucket a hub cluster shares.
pub fn trust_replica_user() -> UserClaims {
    full_client()
}

/// The hub process's API service in the API account (`trust/api.creds`): answers `ef.api.v1.>`.
pub fn api_service_user() -> UserClaims {
    full_client()
}
