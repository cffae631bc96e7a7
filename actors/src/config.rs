//! The config aggregates (see `events::config`): the operator's entries at the hub (`config/hub/entries`), and per
//! site the resolved set the hub gives it and the revision it holds (`config/<site>/resolved`). One state type serves
//! both, as one rollout state serves the hub's plan and a site's companion.

use crate::aggregate::{Aggregate, DecideContext};
use crate::rejection::Rejection;
use events::config::{ConfigEvent, ConfigScope, ConfigValue, ResolvedValue};
use events::{AggregateKind, Hlc, Writer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest key accepted.
pub const KEY_MAX_LEN: usize = 200;
/// Largest value accepted.
pub const VALUE_MAX_BYTES: usize = 64 * 1024;
/// Largest total of one scope's values: a site's resolved set travels as one message.
pub const SCOPE_MAX_BYTES: usize = 512 * 1024;

/// Config state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigState {
    /// The operator's entries (on `config/hub/entries`): scope (as written) → key → value.
    pub entries: BTreeMap<String, BTreeMap<String, ConfigEntry>>,
    /// The revision resolved for the site (on `config/<site>/resolved`).
    pub revision: u64,
    /// Key → value, as resolved.
    pub resolved: BTreeMap<String, ResolvedValue>,
    /// The revision the site holds in its local bucket.
    pub held: Option<u64>,
}

/// One of the operator's entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEntry {
    /// Its scope.
    pub scope: ConfigScope,
    /// Value and expiry.
    pub value: ConfigValue,
    /// When it was set.
    pub set_at: Hlc,
}

impl ConfigState {
    /// Every entry as (scope, key, entry).
    pub fn all_entries(&self) -> impl Iterator<Item = (&ConfigScope, &String, &ConfigEntry)> {
        self.entries
            .values()
            .flat_map(|keys| keys.iter().map(|(key, entry)| (&entry.scope, key, entry)))
    }
}

/// What can be asked of config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigCommand {
    /// Operator: set `key` in `scope` (no-op if unchanged).
    Set {
        /// The scope.
        scope: ConfigScope,
        /// The key.
        key: String,
        /// Value and expiry.
        value: ConfigValue,
    },
    /// Operator: delete `key` in `scope`.
    Delete {
        /// The scope.
        scope: ConfigScope,
        /// The key.
        key: String,
    },
    /// Hub planner: this is what the site should hold now (no-op if unchanged).
    Resolve(BTreeMap<String, ResolvedValue>),
    /// Site: its local bucket holds `revision`.
    ReportHeld(u64),
}

/// Checks a key: what a JetStream KV key may be (`[-/_=.a-zA-Z0-9]`, no leading, trailing or doubled dot).
pub fn validate_key(key: &str) -> Result<(), Rejection> {
    let ok = !key.is_empty()
        && key.len() <= KEY_MAX_LEN
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-/_=.".contains(&b))
        && !key.starts_with('.')
        && !key.ends_with('.')
        && !key.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Rejection::Invalid(format!(
            "key {:?} must be 1-{KEY_MAX_LEN} characters of A-Z a-z 0-9 - / _ = . (no leading, trailing or doubled dot)",
            key.chars().take(80).collect::<String>()
        )))
    }
}

impl Aggregate for ConfigState {
    const KIND: AggregateKind = AggregateKind::Config;
    const STATE_VERSION: u16 = 1;
    type Event = ConfigEvent;
    type Command = ConfigCommand;

    fn apply(&mut self, event: &ConfigEvent, at: Hlc) {
        match event {
            ConfigEvent::EntrySet { scope, key, value } => {
                let entry = ConfigEntry {
                    scope: scope.clone(),
                    value: value.clone(),
                    set_at: at,
                };
                self.entries
                    .entry(scope.to_string())
                    .or_default()
                    .insert(key.clone(), entry);
            }
            ConfigEvent::EntryDeleted { scope, key } => {
                let scope = scope.to_string();
                if let Some(keys) = self.entries.get_mut(&scope) {
                    keys.remove(key);
                    if keys.is_empty() {
                        self.entries.remove(&scope);
                    }
                }
            }
            ConfigEvent::Resolved { revision, entries } => {
                self.revision = *revision;
                self.resolved = entries.clone();
            }
            ConfigEvent::Held { revision } => self.held = Some(*revision),
        }
    }

    fn command_writer(command: &ConfigCommand) -> Writer {
        match command {
            ConfigCommand::ReportHeld(_) => Writer::Site,
            _ => Writer::Hub,
        }
    }

    fn decide(&self, command: ConfigCommand, _ctx: &DecideContext<'_>) -> Result<Vec<ConfigEvent>, Rejection> {
        match command {
            ConfigCommand::Set { scope, key, value } => {
                validate_key(&key)?;
                if let ConfigScope::Label { key: label, .. } = &scope {
                    if label.is_empty() || label.len() > crate::labels::LABEL_MAX_LEN {
                        return Err(Rejection::Invalid(format!("label key {label:?} is not a label key")));
                    }
                }
                if value.value.len() > VALUE_MAX_BYTES {
                    return Err(Rejection::Invalid(format!(
                        "a value of {} bytes exceeds {VALUE_MAX_BYTES}; keep larger files elsewhere",
                        value.value.len()
                    )));
                }
                let scope_text = scope.to_string();
                let current = self.entries.get(&scope_text);
                if current
                    .and_then(|keys| keys.get(&key))
                    .is_some_and(|e| e.value == value)
                {
                    return Ok(vec![]);
                }
                let others: usize = current
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| **k != key)
                    .map(|(k, e)| k.len() + e.value.value.len())
                    .sum();
                if others + key.len() + value.value.len() > SCOPE_MAX_BYTES {
                    return Err(Rejection::Invalid(format!(
                        "scope {scope_text} would hold more than {SCOPE_MAX_BYTES} bytes of config"
                    )));
                }
                Ok(vec![ConfigEvent::EntrySet { scope, key, value }])
            }
            ConfigCommand::Delete { scope, key } => {
                let present = self
                    .entries
                    .get(&scope.to_string())
                    .is_some_and(|keys| keys.contains_key(&key));
                if present {
                    Ok(vec![ConfigEvent::EntryDeleted { scope, key }])
                } else {
                    Err(Rejection::NotFound(format!("no key {key} in scope {scope}")))
                }
            }
            ConfigCommand::Resolve(entries) => {
                // Unchanged, or nothing was ever resolved and nothing is: no new revision.
                let unchanged = entries == self.resolved && (self.revision > 0 || entries.is_empty());
                if unchanged {
                    Ok(vec![])
                } else {
                    Ok(vec![ConfigEvent::Resolved {
                        revision: self.revision + 1,
                        entries,
                    }])
                }
            }
            ConfigCommand::ReportHeld(revision) => {
                if self.held == Some(revision) {
                    Ok(vec![])
                } else {
                    Ok(vec![ConfigEvent::Held { revision }])
                }
            }
        }
    }
}
