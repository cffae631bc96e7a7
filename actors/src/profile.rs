//! The profile aggregate: immutable, versioned full-stack cluster definitions. Hub-only.

use crate::aggregate::{Aggregate, DecideContext};
use crate::rejection::Rejection;
use events::profile::{HelmRelease, ProfileEvent, ProfileLayers};
use events::{AggregateKind, Hlc, Writer};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Every published version of one profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileState {
    /// Version → layers. Versions are never changed once published.
    pub versions: BTreeMap<u32, ProfileLayers>,
}

impl ProfileState {
    /// The highest published version.
    pub fn latest(&self) -> Option<(u32, &ProfileLayers)> {
        self.versions.iter().next_back().map(|(v, l)| (*v, l))
    }
}

/// What can be asked of a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileCommand {
    /// Publish these layers as the next version (no-op if identical to the latest).
    Publish(ProfileLayers),
}

/// Checks a profile's layers before it is published.
pub fn validate_layers(layers: &ProfileLayers) -> Result<(), Rejection> {
    let invalid = |m: String| Err(Rejection::Invalid(m));
    if layers.os.image.trim().is_empty() || layers.os.version.trim().is_empty() {
        return invalid("os layer needs an image and a version".into());
    }
    let sha = &layers.os.sha256;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return invalid(format!("os sha256 {sha:?} must be 64 lower-case hex digits"));
    }
    if layers.k8s.distro.trim().is_empty() || layers.k8s.version.trim().is_empty() {
        return invalid("k8s layer needs a distro and a version".into());
    }
    let releases = std::iter::once(&layers.cni)
        .chain(&layers.csi)
        .chain(&layers.addons)
        .chain(&layers.apps);
    let mut names = BTreeSet::new();
    for release in releases {
        validate_release(release)?;
        if !names.insert(release.name.as_str()) {
            return invalid(format!("release name {:?} is used twice", release.name));
        }
    }
    Ok(())
}

fn validate_release(release: &HelmRelease) -> Result<(), Rejection> {
    if release.name.trim().is_empty() || release.chart.trim().is_empty() || release.version.trim().is_empty() {
        return Err(Rejection::Invalid(format!(
            "helm release {:?} needs a name, a chart and a version",
            release.name
        )));
    }
    Ok(())
}

impl Aggregate for ProfileState {
    const KIND: AggregateKind = AggregateKind::Profile;
    const STATE_VERSION: u16 = 1;
    type Event = ProfileEvent;
    type Command = ProfileCommand;

    fn apply(&mut self, event: &ProfileEvent, _at: Hlc) {
        match event {
            ProfileEvent::VersionPublished { version, layers } => {
                // Immutability: a version, once published, is never replaced (a duplicate is ignored).
                self.versions.entry(*version).or_insert_with(|| layers.clone());
            }
        }
    }

    fn command_writer(_command: &ProfileCommand) -> Writer {
        Writer::Hub
    }

    fn decide(&self, command: ProfileCommand, _ctx: &DecideContext<'_>) -> Result<Vec<ProfileEvent>, Rejection> {
        match command {
            ProfileCommand::Publish(layers) => {
                validate_layers(&layers)?;
                match self.latest() {
                    Some((_, latest)) if *latest == layers => Ok(vec![]),
                    latest => {
                        let version = latest.map_or(1, |(v, _)| v + 1);
                        Ok(vec![ProfileEvent::VersionPublished { version, layers }])
                    }
                }
            }
        }
    }
}
