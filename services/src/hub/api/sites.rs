//! `ef.api.v1.sites.*`: list, get, label — links from the site directory, the rest from the projection.

use super::context::ApiContext;
use crate::api_types::requests::{Empty, Label, SiteRef};
use crate::api_types::views::{SiteConnection, SiteView};
use crate::api_types::ApiError;
use actors::site::SiteCommand;
use events::{subject, AggregateRef, Token};

fn view(context: &ApiContext, site: &Token) -> SiteView {
    let link = context.directory.link(site).unwrap_or_default();
    let stream = subject::site_stream(site);
    let copied = context.projection.high_water(&stream);
    let quarantined = context
        .projection
        .quarantine()
        .entries()
        .iter()
        .filter(|m| m.stream == stream)
        .count() as u64;
    let connection = match link.last_seen {
        None => SiteConnection::Unknown,
        Some(_) if link.connected() => SiteConnection::Connected,
        Some(_) => SiteConnection::Disconnected,
    };
    let view = SiteView {
        site: site.to_string(),
        connection,
        last_seen_unix_ms: link.last_seen_unix_ms,
        replication_lag: link.site_last_seq.saturating_sub(copied),
        copied_events: copied,
        quarantined,
        labels: Default::default(),
        timezone: None,
        maintenance_window: None,
    };
    context.read(|fleet| view.with_state(fleet.site(site)))
}

fn known(context: &ApiContext, site: &Token) -> Result<(), ApiError> {
    if context.directory.knows(site) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "site {site} has never connected to this hub"
        )))
    }
}

/// `sites.list`.
pub fn list(context: &ApiContext, _request: Empty) -> Vec<SiteView> {
    context
        .directory
        .sites()
        .iter()
        .map(|site| view(context, site))
        .collect()
}

/// `sites.get`.
pub fn get(context: &ApiContext, request: SiteRef) -> Result<SiteView, ApiError> {
    known(context, &request.id)?;
    Ok(view(context, &request.id))
}

/// `sites.label`.
pub async fn label(context: &ApiContext, request: Label) -> Result<SiteView, ApiError> {
    known(context, &request.id)?;
    let command = SiteCommand::SetLabels(request.labels);
    context
        .write(&context.hub.sites, AggregateRef::site(&request.id), command)
        .await?;
    Ok(view(context, &request.id))
}
