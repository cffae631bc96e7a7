//! App events: immutable, versioned applications placed on clusters by placements, apart from the cluster
//! profile's add-ons. Only the hub writes them; every site sources them, as it does profiles.

use crate::origin::Writer;
use crate::token::{Token, TokenError};
use serde::{Deserialize, Serialize};

/// An app at one immutable version: `name@version`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AppRef {
    /// App name.
    pub name: Token,
    /// App version (1-based, immutable once published).
    pub version: u32,
}

impl std::fmt::Display for AppRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// Why a string is not `NAME@VERSION`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppRefError {
    /// No `@`, or a version that is not a positive number.
    #[error("app {0:?} must be NAME@VERSION with a positive version, e.g. pos@2")]
    Shape(String),
    /// The name is not a valid identifier.
    #[error("app name: {0}")]
    Name(#[from] TokenError),
}

impl std::str::FromStr for AppRef {
    type Err = AppRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown = || AppRefError::Shape(s.chars().take(80).collect());
        let (name, version) = s.split_once('@').ok_or_else(shown)?;
        let version = version.parse::<u32>().ok().filter(|v| *v >= 1).ok_or_else(shown)?;
        Ok(AppRef {
            name: Token::new(name)?,
            version,
        })
    }
}

/// What an app installs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppRelease {
    /// A Helm chart with values.
    Helm {
        /// Chart reference (`oci://…` or `repo/chart`).
        chart: String,
        /// Chart version.
        version: String,
        /// Values, as YAML text.
        values: String,
        /// The namespace it installs into.
        namespace: String,
    },
    /// Plain Kubernetes manifests, as YAML text (several documents allowed).
    Manifests {
        /// The YAML.
        yaml: String,
    },
}

/// Everything that can happen to an app. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppEvent {
    /// Hub: a new immutable version was published.
    VersionPublished {
        /// The version number, one more than the previous.
        version: u32,
        /// What it installs.
        release: AppRelease,
    },
}

impl AppEvent {
    /// Which side may write this event: always the hub.
    pub fn writer(&self) -> Writer {
        Writer::Hub
    }

    /// Short name for histories and logs.
    pub fn name(&self) -> &'static str {
        match self {
            AppEvent::VersionPublished { .. } => "AppVersionPublished",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_refs_parse_from_name_at_version() {
        assert_eq!("pos@2".parse::<AppRef>().map(|r| r.to_string()), Ok("pos@2".into()));
        for bad in ["pos", "pos@0", "pos@x", "Pos@1", "@1"] {
            assert!(bad.parse::<AppRef>().is_err(), "{bad}");
        }
    }
}
