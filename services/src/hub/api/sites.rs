//! `ef.api.v1.sites.*`: list, get, label.

use super::error::ApiError;
use super::requests::{Empty, Label, SiteRef};
use super::ApiContext;
use crate::hub::site_directory::SiteRow;
use crate::registries::{dispatch, query};
use actors::site::{SiteCommand, SiteState};
use events::{AggregateRef, Token};
use serde::Serialize;
use std::collections::BTreeMap;

/// A site with its link and labels.
#[derive(Debug, Serialize)]
pub struct SiteView {
    /// Link state.
    #[serde(flatten)]
    pub link: SiteRow,
    /// Operator labels.
    pub labels: BTreeMap<String, String>,
    /// Time zone the site reported.
    pub timezone: Option<String>,
    /// Maintenance window.
    pub maintenance_window: Option<String>,
}

/// `sites.list`.
pub async fn list(context: &ApiContext, _request: Empty) -> Result<Vec<SiteRow>, ApiError> {
    Ok(context.directory.rows().await)
}

async fn view(context: &ApiContext, site: &Token, state: SiteState) -> Result<SiteView, ApiError> {
    let link = context
        .directory
        .rows()
        .await
        .into_iter()
        .find(|row| row.site == site.as_str())
        .ok_or_else(|| ApiError::not_found(format!("site {site} has never connected to this hub")))?;
    Ok(SiteView {
        link,
        labels: state.spec.labels,
        timezone: state.status.timezone,
        maintenance_window: state.spec.maintenance_window,
    })
}

/// `sites.get`.
pub async fn get(context: &ApiContext, request: SiteRef) -> Result<SiteView, ApiError> {
    let site = Token::new(request.id)?;
    let state: SiteState = query(&context.hub.sites, AggregateRef::site(&site))
        .await
        .map_err(|e| ApiError {
            code: 503,
            message: format!("{e:#}"),
        })?;
    view(context, &site, state).await
}

/// `sites.label`.
pub async fn label(context: &ApiContext, request: Label) -> Result<SiteView, ApiError> {
    let site = Token::new(request.id)?;
    if !context.directory.sites().contains(&site) {
        return Err(ApiError::not_found(format!(
            "site {site} has never connected to this hub"
        )));
    }
    let done = dispatch(
        &context.hub.sites,
        AggregateRef::site(&site),
        SiteCommand::SetLabels(request.labels),
        "operator",
    )
    .await?;
    view(context, &site, done.state).await
}
