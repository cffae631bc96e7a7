//! Config events: central key/value data (configuration, feature flags, small files) set at the hub and mirrored to
//! the sites it targets. Two aggregates of kind `config`:
//!
//! - `config/hub/entries` (hub only, on `ef.intent.hub.…`, which no site sources): the operator's entries, each with
//!   its scope (every site, one site, or the sites carrying a label) and optional expiry.
//! - `config/<site>/resolved`: what the hub resolved for one site (`Resolved`, a revision of the whole set, on the
//!   site's own intents) and the revision the site holds in its local bucket (`Held`, on the site's stream).
//!
//! So a site receives exactly the entries that target it, never another site's.

use crate::origin::Writer;
use crate::token::Token;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Which sites an entry targets.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConfigScope {
    /// Every site.
    All,
    /// The sites labelled `key=value`.
    Label {
        /// The label key.
        key: String,
        /// Its value.
        value: String,
    },
    /// One site.
    Site(Token),
}

impl ConfigScope {
    /// Which of two scopes wins for one key at one site: a site's own over a label's over every site's.
    pub fn precedence(&self) -> u8 {
        match self {
            ConfigScope::All => 0,
            ConfigScope::Label { .. } => 1,
            ConfigScope::Site(_) => 2,
        }
    }
}

impl fmt::Display for ConfigScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigScope::All => f.write_str("all"),
            ConfigScope::Label { key, value } => write!(f, "label={key}={value}"),
            ConfigScope::Site(site) => write!(f, "site={site}"),
        }
    }
}

/// Why a string is not a scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scope {0:?} must be all, site=SITE or label=KEY=VALUE")]
pub struct ConfigScopeError(pub String);

impl std::str::FromStr for ConfigScope {
    type Err = ConfigScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ConfigScopeError(s.chars().take(80).collect());
        if s == "all" {
            return Ok(ConfigScope::All);
        }
        if let Some(site) = s.strip_prefix("site=") {
            return Token::new(site).map(ConfigScope::Site).map_err(|_| bad());
        }
        if let Some(label) = s.strip_prefix("label=") {
            let (key, value) = label.split_once('=').ok_or_else(bad)?;
            if key.is_empty() {
                return Err(bad());
            }
            return Ok(ConfigScope::Label {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
        Err(bad())
    }
}

/// One key's value as the operator set it, or as resolved for a site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValue {
    /// The value (UTF-8 text).
    pub value: String,
    /// When it stops being valid (Unix ms); gone from every site from then on, also a site cut off.
    pub expires_at_ms: Option<u64>,
}

/// One key resolved for a site: its value and the scope it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedValue {
    /// The value and its expiry.
    pub value: ConfigValue,
    /// The scope that gave it.
    pub scope: ConfigScope,
}

/// Everything that can happen to config. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfigEvent {
    /// Hub (`config/hub/entries`): the operator set `key` in `scope`.
    EntrySet {
        /// The scope.
        scope: ConfigScope,
        /// The key.
        key: String,
        /// Its value and expiry.
        value: ConfigValue,
    },
    /// Hub (`config/hub/entries`): the operator deleted `key` in `scope`.
    EntryDeleted {
        /// The scope.
        scope: ConfigScope,
        /// The key.
        key: String,
    },
    /// Hub (`config/<site>/resolved`): what the site should hold now.
    Resolved {
        /// The revision, one more than the previous.
        revision: u64,
        /// Key → value.
        entries: BTreeMap<String, ResolvedValue>,
    },
    /// Site (`config/<site>/resolved`): the site's local bucket holds `revision` (its unexpired entries).
    Held {
        /// The revision held.
        revision: u64,
    },
}

impl ConfigEvent {
    /// Which side may write this event.
    pub fn writer(&self) -> Writer {
        match self {
            ConfigEvent::Held { .. } => Writer::Site,
            _ => Writer::Hub,
        }
    }

    /// Short name for histories and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ConfigEvent::EntrySet { .. } => "ConfigEntrySet",
            ConfigEvent::EntryDeleted { .. } => "ConfigEntryDeleted",
            ConfigEvent::Resolved { .. } => "ConfigResolved",
            ConfigEvent::Held { .. } => "ConfigHeld",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_from_their_display() {
        for text in ["all", "site=store-1", "label=tier=gold", "label=region="] {
            let scope: ConfigScope = text.parse().expect(text);
            assert_eq!(scope.to_string(), text);
        }
        for bad in ["", "every", "site=", "site=Store 1", "label=", "label==x", "label=tier"] {
            assert!(bad.parse::<ConfigScope>().is_err(), "{bad}");
        }
    }
}
