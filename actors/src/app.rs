//! The app aggregate: immutable, versioned applications (a Helm chart with values, or plain manifests), placed on
//! clusters by placements. Hub-only, like profiles.

use crate::aggregate::{Aggregate, DecideContext};
use crate::rejection::Rejection;
use events::app::{AppEvent, AppRelease};
use events::{AggregateKind, Hlc, Writer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest values or manifests text accepted.
pub const RELEASE_TEXT_MAX: usize = 256 * 1024;

/// Every published version of one app.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppState {
    /// Version → release. Versions are never changed once published.
    pub versions: BTreeMap<u32, AppRelease>,
}

impl AppState {
    /// The highest published version.
    pub fn latest(&self) -> Option<(u32, &AppRelease)> {
        self.versions.iter().next_back().map(|(v, r)| (*v, r))
    }
}

/// What can be asked of an app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppCommand {
    /// Publish this release as the next version (no-op if identical to the latest).
    Publish(AppRelease),
}

/// Checks a release before it is published.
pub fn validate_release(release: &AppRelease) -> Result<(), Rejection> {
    let invalid = |m: String| Err(Rejection::Invalid(m));
    match release {
        AppRelease::Helm {
            chart,
            version,
            values,
            namespace,
        } => {
            if chart.trim().is_empty() || version.trim().is_empty() {
                return invalid("a Helm app needs a chart and a version".into());
            }
            let namespace_ok = !namespace.is_empty()
                && namespace.len() <= 63
                && namespace
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !namespace.starts_with('-')
                && !namespace.ends_with('-');
            if !namespace_ok {
                return invalid(format!(
                    "namespace {namespace:?} must be 1-63 characters of a-z 0-9 - (not starting or ending with -)"
                ));
            }
            if values.len() > RELEASE_TEXT_MAX {
                return invalid(format!("values of {} bytes exceed {RELEASE_TEXT_MAX}", values.len()));
            }
        }
        AppRelease::Manifests { yaml } => {
            if yaml.trim().is_empty() {
                return invalid("a manifests app needs at least one manifest".into());
            }
            if yaml.len() > RELEASE_TEXT_MAX {
                return invalid(format!("manifests of {} bytes exceed {RELEASE_TEXT_MAX}", yaml.len()));
            }
        }
    }
    Ok(())
}

impl Aggregate for AppState {
    const KIND: AggregateKind = AggregateKind::App;
    const STATE_VERSION: u16 = 1;
    type Event = AppEvent;
    type Command = AppCommand;

    fn apply(&mut self, event: &AppEvent, _at: Hlc) {
        match event {
            AppEvent::VersionPublished { version, release } => {
                // Immutability: a version, once published, is never replaced (a duplicate is ignored).
                self.versions.entry(*version).or_insert_with(|| release.clone());
            }
        }
    }

    fn command_writer(_command: &AppCommand) -> Writer {
        Writer::Hub
    }

    fn decide(&self, command: AppCommand, _ctx: &DecideContext<'_>) -> Result<Vec<AppEvent>, Rejection> {
        match command {
            AppCommand::Publish(release) => {
                validate_release(&release)?;
                match self.latest() {
                    Some((_, latest)) if *latest == release => Ok(vec![]),
                    latest => {
                        let version = latest.map_or(1, |(v, _)| v + 1);
                        Ok(vec![AppEvent::VersionPublished { version, release }])
                    }
                }
            }
        }
    }
}
