//! Requests and views of the central config (`ef.api.v1.config.*`, `config_sites.list`).

use super::as_text;
use events::config::ConfigScope;
use serde::{Deserialize, Serialize};

/// `config.set`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSet {
    /// `all`, `site=SITE` or `label=KEY=VALUE`.
    #[serde(with = "as_text")]
    pub scope: ConfigScope,
    /// The key (what a KV key may be: `[-/_=.a-zA-Z0-9]`).
    pub key: String,
    /// The value (text, at most 64 KiB).
    pub value: String,
    /// Expire it this many seconds from now (absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<u64>,
}

/// `config.delete`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigDelete {
    /// The scope.
    #[serde(with = "as_text")]
    pub scope: ConfigScope,
    /// The key.
    pub key: String,
}

/// `config.list` (every entry, or one scope's) and `config.get` (one key in every scope, or one).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigQuery {
    /// Only this scope.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "as_text::option")]
    pub scope: Option<ConfigScope>,
    /// Only this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// One entry as the operator set it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConfigEntryView {
    /// Its scope.
    pub scope: String,
    /// Its key.
    pub key: String,
    /// Its value.
    pub value: String,
    /// When it expires (Unix ms), if it does.
    pub expires_at_unix_ms: Option<u64>,
    /// Already expired (gone from every site).
    pub expired: bool,
    /// When it was set (Unix ms).
    pub set_at_unix_ms: u64,
}

/// One site's config: the revision the hub resolved for it and the one it holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConfigSiteView {
    /// The site.
    pub site: String,
    /// The revision resolved for it (0: none yet).
    pub revision: u64,
    /// The revision it reports holding in its local bucket.
    pub held: Option<u64>,
    /// Keys in the resolved set.
    pub keys: usize,
    /// Holds the latest revision.
    pub current: bool,
}
