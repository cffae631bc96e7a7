//! `ef.api.v1.dashboard_links.get`: a sign-in link to this hub's dashboard for the verified caller — the identity
//! the hub's nats-server stamped on the request, never a name the client claims.

use super::context::Call;
use crate::api_types::dashboard_link::DashboardLinkView;
use crate::api_types::requests::Empty;
use crate::api_types::ApiError;
use crate::hub::dashboard::passes::{Pass, PassKind, LINK_TTL};

/// `dashboard_links.get`.
pub fn get(context: &Call<'_>, _request: Empty) -> Result<DashboardLinkView, ApiError> {
    let links = context.dashboard.as_ref().ok_or_else(|| {
        ApiError::not_found("this hub serves no dashboard: start it with --http-listen 127.0.0.1:PORT")
    })?;
    let now_ms = actors::process_clock::system_wall_ms();
    let pass = Pass {
        user: context.caller.name.clone(),
        public_key: context.caller.public_key.clone(),
        kind: PassKind::Link,
        expires_unix_s: now_ms / 1000 + LINK_TTL.as_secs(),
    };
    let token = links.passes.sign(&pass);
    tracing::info!(user = %context.caller.name, "dashboard sign-in link issued");
    Ok(DashboardLinkView {
        url: format!("{}/sign-in?token={token}", links.base_url),
        expires_unix_ms: (pass.expires_unix_s) * 1000,
        user: context.caller.name.to_string(),
        role: context.caller.role.to_string(),
    })
}
