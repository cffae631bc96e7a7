//! `ef.api.v1.users.*` (admins only): issue an operator's credential with a role, list them, revoke one — its
//! connections are closed by the server at once.

use super::access_errors::access_error;
use super::context::Call;
use crate::api_types::fleet_access::{UserAdd, UserCredsView, UserRef, UserView};
use crate::api_types::requests::Empty;
use crate::api_types::ApiError;

/// `users.list`.
pub fn list(context: &Call<'_>, _request: Empty) -> Result<Vec<UserView>, ApiError> {
    let users = context.trust.users().map_err(|e| access_error(e.into()))?;
    Ok(users.iter().map(UserView::from).collect())
}

/// `users.add`.
pub async fn add(context: &Call<'_>, request: UserAdd) -> Result<UserCredsView, ApiError> {
    let replica = context.directory.replica();
    let change = replica.begin().await.map_err(access_error)?;
    let added = context.trust.add_user(&request.name, request.role);
    replica.finish(change).await.map_err(access_error)?;
    let creds = added.map_err(|e| access_error(e.into()))?;
    let record = context
        .trust
        .user_record(&request.name)
        .map_err(|e| access_error(e.into()))?
        .ok_or_else(|| ApiError::internal(format!("user {} was issued but not recorded", request.name)))?;
    tracing::info!(user = %request.name, role = %request.role, by = %context.caller.name, "user added");
    Ok(UserCredsView {
        user: UserView::from(&record),
        creds: creds.to_creds_text(),
    })
}

/// `users.revoke`.
pub async fn revoke(context: &Call<'_>, request: UserRef) -> Result<UserView, ApiError> {
    let replica = context.directory.replica();
    let change = replica.begin().await.map_err(access_error)?;
    let revoked = context.trust.revoke_user_named(&request.name);
    replica.finish(change).await.map_err(access_error)?;
    let (_, account_jwt) = revoked.map_err(|e| access_error(e.into()))?;
    fleet_trust::push_account_jwt(&context.directory.system(), &account_jwt)
        .await
        .map_err(|e| access_error(e.into()))?;
    tracing::warn!(user = %request.name, by = %context.caller.name, "user revoked");
    let record = context
        .trust
        .user_record(&request.name)
        .map_err(|e| access_error(e.into()))?
        .ok_or_else(|| ApiError::internal(format!("user {} was revoked but has no record", request.name)))?;
    Ok(UserView::from(&record))
}
