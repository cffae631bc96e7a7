//! Profile events: immutable, versioned full-stack cluster definitions. Only the hub writes them.

use crate::origin::Writer;
use serde::{Deserialize, Serialize};

/// A Helm chart reference with values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmRelease {
    /// Release name.
    pub name: String,
    /// Chart reference (`oci://…` or `repo/chart`).
    pub chart: String,
    /// Chart version.
    pub version: String,
    /// Values, as YAML text (kept as text: postcard is not self-describing).
    pub values: String,
}

/// Base OS image for the A/B partitions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsImage {
    /// Image name in the object store.
    pub image: String,
    /// Image version.
    pub version: String,
    /// Hex sha256 of the image, checked before it is written.
    pub sha256: String,
}

/// Kubernetes distribution and version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesLayer {
    /// Distribution (`k3s`).
    pub distro: String,
    /// Version (`v1.31.4+k3s1`).
    pub version: String,
}

/// The layers of a profile, bottom to top.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileLayers {
    /// Base OS.
    pub os: OsImage,
    /// Kubernetes.
    pub k8s: KubernetesLayer,
    /// Network plugin.
    pub cni: HelmRelease,
    /// Storage plugin, if any.
    pub csi: Option<HelmRelease>,
    /// Add-ons (logging, monitoring).
    pub addons: Vec<HelmRelease>,
    /// Edge applications.
    pub apps: Vec<HelmRelease>,
}

/// Everything that can happen to a profile. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileEvent {
    /// Hub: a new immutable version was published.
    VersionPublished {
        /// The version number, one more than the previous.
        version: u32,
        /// Its layers.
        layers: ProfileLayers,
    },
}

impl ProfileEvent {
    /// Which side may write this event: always the hub.
    pub fn writer(&self) -> Writer {
        Writer::Hub
    }

    /// Short name for histories and logs.
    pub fn name(&self) -> &'static str {
        match self {
            ProfileEvent::VersionPublished { .. } => "ProfileVersionPublished",
        }
    }
}
