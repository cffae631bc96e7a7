//! `ef.api.v1.sites.*`: list, get, label — links from the site directory, the rest from the projection; and, for
//! admins, add (a new site's account and bundle), rotate (a new bundle, the old credential revoked) and revoke (cut
//! a site off; its history stays).

use super::access_errors::access_error;
use super::context::Call;
use crate::api_types::fleet_access::{SiteBundleView, SiteIssueRequest};
use crate::api_types::requests::{Empty, Label, SiteRef};
use crate::api_types::views::{SiteConnection, SiteView};
use crate::api_types::ApiError;
use actors::site::SiteCommand;
use events::{subject, AggregateRef, Token};

fn view(context: &Call<'_>, site: &Token) -> SiteView {
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
    let connection = if link.revoked {
        SiteConnection::Revoked
    } else {
        connection
    };
    let view = SiteView {
        site: site.to_string(),
        connection,
        last_seen_unix_ms: link.last_seen_unix_ms,
        replication_lag: link.site_last_seq.saturating_sub(copied),
        copied_events: copied,
        copy: link.copy_health(copied),
        quarantined,
        labels: Default::default(),
        timezone: None,
        maintenance_window: None,
        telemetry: context.telemetry.views_of(site),
    };
    context.read(|fleet| view.with_state(fleet.site(site)))
}

pub fn known(context: &Call<'_>, site: &Token) -> Result<(), ApiError> {
    if context.directory.knows(site) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "site {site} is not part of this fleet: add it with `edgefleet sites add {site} --out DIR`"
        )))
    }
}

/// `sites.list`.
pub fn list(context: &Call<'_>, _request: Empty) -> Vec<SiteView> {
    context
        .directory
        .sites()
        .iter()
        .map(|site| view(context, site))
        .collect()
}

/// `sites.get`.
pub fn get(context: &Call<'_>, request: SiteRef) -> Result<SiteView, ApiError> {
    known(context, &request.id)?;
    Ok(view(context, &request.id))
}

/// `sites.label`.
pub async fn label(context: &Call<'_>, request: Label) -> Result<SiteView, ApiError> {
    known(context, &request.id)?;
    let command = SiteCommand::SetLabels(request.labels);
    context
        .write(&context.hub.sites, AggregateRef::site(&request.id), command)
        .await?;
    Ok(view(context, &request.id))
}

/// `sites.add`.
pub async fn add(context: &Call<'_>, request: SiteIssueRequest) -> Result<SiteBundleView, ApiError> {
    let names = names(&request)?;
    let bundle = context.directory.add(&request.id, &names).await.map_err(access_error)?;
    tracing::info!(site = %request.id, by = %context.caller.name, "site added");
    bundle_view(context, bundle)
}

/// `sites.rotate`.
pub async fn rotate(context: &Call<'_>, request: SiteIssueRequest) -> Result<SiteBundleView, ApiError> {
    let names = names(&request)?;
    let bundle = context
        .directory
        .rotate(&request.id, &names)
        .await
        .map_err(access_error)?;
    tracing::info!(site = %request.id, by = %context.caller.name, "site credentials rotated");
    bundle_view(context, bundle)
}

/// `sites.revoke`.
pub async fn revoke(context: &Call<'_>, request: SiteRef) -> Result<SiteView, ApiError> {
    known(context, &request.id)?;
    context.directory.revoke(&request.id).await.map_err(access_error)?;
    tracing::warn!(site = %request.id, by = %context.caller.name, "site revoked");
    Ok(view(context, &request.id))
}

fn names(request: &SiteIssueRequest) -> Result<fleet_trust::ServerNames, ApiError> {
    crate::hub::hub_server::server_names("localhost", &request.tls_names)
        .map_err(|e| ApiError::bad_request(format!("tls_names: {e:#}")))
}

fn bundle_view(context: &Call<'_>, bundle: fleet_trust::SiteBundle) -> Result<SiteBundleView, ApiError> {
    // The CA the hub's own certificate comes from: the fleet CA, or the one the hub was given with --tls-ca.
    let hub_ca_pem = std::fs::read_to_string(&context.hub_ca)
        .map_err(|e| ApiError::internal(format!("reading {}: {e}", context.hub_ca.display())))?;
    Ok(SiteBundleView {
        site: bundle.site.to_string(),
        hub_leaf_url: context.leaf_url.clone(),
        leaf_creds: bundle.leaf_creds.to_creds_text(),
        hub_ca_pem,
        site_ca_pem: bundle.site_ca_pem,
        site_cert_pem: bundle.site_cert_pem,
        site_key_pem: bundle.site_key_pem,
        local_reader_public_key: bundle.local_reader_public_key,
        local_reader_seed: bundle.local_reader_seed,
    })
}
