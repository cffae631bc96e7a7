//! `ef.api.v1.config.*`: set, delete, list and get the operator's central config entries; `config_sites.list`: the
//! revision the hub resolved for each site and the one the site reports holding.

use super::context::Call;
use crate::api_types::config_api::{ConfigDelete, ConfigEntryView, ConfigQuery, ConfigSet, ConfigSiteView};
use crate::api_types::requests::Empty;
use crate::api_types::ApiError;
use actors::config::{ConfigCommand, ConfigState};
use events::config::ConfigValue;
use events::AggregateRef;

fn now_ms() -> u64 {
    actors::process_clock::system_wall_ms()
}

fn views(state: &ConfigState, query: &ConfigQuery) -> Vec<ConfigEntryView> {
    let now = now_ms();
    state
        .all_entries()
        .filter(|(scope, key, _)| {
            query.scope.as_ref().is_none_or(|s| s == *scope) && query.key.as_ref().is_none_or(|k| k == *key)
        })
        .map(|(scope, key, entry)| ConfigEntryView {
            scope: scope.to_string(),
            key: key.clone(),
            value: entry.value.value.clone(),
            expires_at_unix_ms: entry.value.expires_at_ms,
            expired: entry.value.expires_at_ms.is_some_and(|at| at <= now),
            set_at_unix_ms: entry.set_at.physical_ms,
        })
        .collect()
}

/// `config.set`: the sites it targets get it on the hub planner's next pass (and as soon as their link allows).
pub async fn set(context: &Call<'_>, request: ConfigSet) -> Result<ConfigEntryView, ApiError> {
    let expires_at_ms = request
        .ttl_s
        .map(|ttl| {
            if ttl == 0 {
                Err(ApiError::bad_request(
                    "ttl_s must be at least 1 (leave it out for no expiry)",
                ))
            } else {
                Ok(now_ms().saturating_add(ttl.saturating_mul(1000)))
            }
        })
        .transpose()?;
    let command = ConfigCommand::Set {
        scope: request.scope.clone(),
        key: request.key.clone(),
        value: ConfigValue {
            value: request.value,
            expires_at_ms,
        },
    };
    let done = context
        .write(&context.hub.configs, AggregateRef::config_entries(), command)
        .await?;
    let query = ConfigQuery {
        scope: Some(request.scope),
        key: Some(request.key),
    };
    views(&done.state, &query)
        .pop()
        .ok_or_else(|| ApiError::internal("the entry set is not in the config"))
}

/// `config.delete`.
pub async fn delete(context: &Call<'_>, request: ConfigDelete) -> Result<Vec<ConfigEntryView>, ApiError> {
    let command = ConfigCommand::Delete {
        scope: request.scope,
        key: request.key,
    };
    let done = context
        .write(&context.hub.configs, AggregateRef::config_entries(), command)
        .await?;
    Ok(views(&done.state, &ConfigQuery::default()))
}

/// `config.list`: every entry, or those of one scope or key.
pub fn list(context: &Call<'_>, request: ConfigQuery) -> Vec<ConfigEntryView> {
    context.read(|fleet| {
        fleet
            .config(&AggregateRef::config_entries())
            .map(|state| views(state, &request))
            .unwrap_or_default()
    })
}

/// `config.get`: one key, in every scope (or one).
pub fn get(context: &Call<'_>, request: ConfigQuery) -> Result<Vec<ConfigEntryView>, ApiError> {
    let key = request
        .key
        .clone()
        .ok_or_else(|| ApiError::bad_request("config.get needs a key"))?;
    let found = list(context, request);
    if found.is_empty() {
        return Err(ApiError::not_found(format!("no config key {key}")));
    }
    Ok(found)
}

/// `config_sites.list`: per site, the revision resolved for it and the revision it holds.
pub fn sites(context: &Call<'_>, _request: Empty) -> Vec<ConfigSiteView> {
    context.read(|fleet| {
        fleet
            .sites()
            .map(|(site, _)| {
                let state = fleet.config(&AggregateRef::config_resolved(site));
                let revision = state.map_or(0, |s| s.revision);
                let held = state.and_then(|s| s.held);
                ConfigSiteView {
                    site: site.to_string(),
                    revision,
                    held,
                    keys: state.map_or(0, |s| s.resolved.len()),
                    current: held == Some(revision) || revision == 0,
                }
            })
            .collect()
    })
}
