//! `edgefleet config set|get|ls|delete|sites`.

use super::api_client::HubApi;
use super::tables::{print_list, print_one, Column};
use crate::api_types::config_api::{ConfigDelete, ConfigEntryView, ConfigQuery, ConfigSet, ConfigSiteView};
use crate::api_types::requests::Empty;
use crate::cli::{ConfigCommand, OutputFormat};
use anyhow::Context;

fn expires(e: &ConfigEntryView) -> String {
    match (e.expires_at_unix_ms, e.expired) {
        (None, _) => "never".into(),
        (Some(_), true) => "expired".into(),
        (Some(ms), false) => {
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)).to_string()
        }
    }
}

/// A value on one line of a table: the first line, at most 60 characters.
fn shown(value: &str) -> String {
    let first: String = value.lines().next().unwrap_or("").chars().take(60).collect();
    if first.len() < value.len() {
        format!("{first}…")
    } else {
        first
    }
}

const ENTRIES: &[Column<'static, ConfigEntryView>] = &[
    ("SCOPE", &|e: &ConfigEntryView| e.scope.clone()),
    ("KEY", &|e: &ConfigEntryView| e.key.clone()),
    ("VALUE", &|e: &ConfigEntryView| shown(&e.value)),
    ("EXPIRES", &expires),
];

const SITES: &[Column<'static, ConfigSiteView>] = &[
    ("SITE", &|s: &ConfigSiteView| s.site.clone()),
    ("REVISION", &|s: &ConfigSiteView| s.revision.to_string()),
    ("HELD", &|s: &ConfigSiteView| {
        s.held.map_or("-".into(), |h| h.to_string())
    }),
    ("KEYS", &|s: &ConfigSiteView| s.keys.to_string()),
    ("CURRENT", &|s: &ConfigSiteView| {
        if s.current { "yes" } else { "no" }.into()
    }),
];

/// Runs a config subcommand.
pub async fn run(api: &HubApi, format: OutputFormat, command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Set {
            key,
            value,
            file,
            scope,
            ttl,
        } => {
            let value = match (value, file) {
                (Some(value), _) => value,
                (None, Some(file)) => {
                    std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?
                }
                (None, None) => anyhow::bail!("give a VALUE or --file"),
            };
            let request = ConfigSet {
                scope,
                key,
                value,
                ttl_s: ttl.map(|t| t.as_secs().max(1)),
            };
            let view: ConfigEntryView = api.call("config.set", &request).await?;
            print_one(format, &view, ENTRIES)
        }
        ConfigCommand::Get { key, scope } => {
            let query = ConfigQuery { scope, key: Some(key) };
            let views: Vec<ConfigEntryView> = api.call("config.get", &query).await?;
            print_list(format, &views, ENTRIES)
        }
        ConfigCommand::Ls { scope } => {
            let query = ConfigQuery { scope, key: None };
            let views: Vec<ConfigEntryView> = api.call("config.list", &query).await?;
            print_list(format, &views, ENTRIES)
        }
        ConfigCommand::Delete { key, scope } => {
            let _: Vec<ConfigEntryView> = api
                .call(
                    "config.delete",
                    &ConfigDelete {
                        scope,
                        key: key.clone(),
                    },
                )
                .await?;
            eprintln!("config {key} deleted");
            Ok(())
        }
        ConfigCommand::Sites => {
            let views: Vec<ConfigSiteView> = api.call("config_sites.list", &Empty {}).await?;
            print_list(format, &views, SITES)
        }
    }
}
