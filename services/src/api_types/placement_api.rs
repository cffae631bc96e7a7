//! Requests and views of apps and placements (`ef.api.v1.apps.*`, `placements.*`, `placement_explanations.get`,
//! `placement_dry_runs.get`).

use super::as_text;
use actors::app::AppState;
use actors::placement::{PlacementDecision, PlacementState};
use events::app::{AppRef, AppRelease};
use events::placement::PlacementSpec;
use events::Token;
use serde::{Deserialize, Serialize};

/// `apps.apply`: publish a release as the app's next version (no-op if unchanged).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppApply {
    /// App name.
    pub name: Token,
    /// What it installs.
    pub release: AppRelease,
}

/// `apps.get`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppGet {
    /// App name.
    pub name: Token,
    /// A version (default: the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
}

/// One app version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppView {
    /// Name.
    pub name: String,
    /// The version shown.
    pub version: u32,
    /// Every published version.
    pub versions: Vec<u32>,
    /// True if this request published the version.
    pub created: bool,
    /// What it installs.
    pub release: AppRelease,
}

impl AppView {
    /// Version `version` (the latest when `None`) of `state`, or `None` if it does not exist.
    pub fn new(name: &str, state: &AppState, version: Option<u32>, created: bool) -> Option<Self> {
        let (version, release) = match version {
            Some(v) => (v, state.versions.get(&v)?),
            None => state.latest()?,
        };
        Some(Self {
            name: name.to_string(),
            version,
            versions: state.versions.keys().copied().collect(),
            created,
            release: release.clone(),
        })
    }
}

/// One row of `apps.list`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppRow {
    /// Name.
    pub name: String,
    /// Latest version.
    pub latest: u32,
    /// What the latest installs: `chart@version` or `manifests`.
    pub installs: String,
}

impl AppRow {
    /// The row of `state`, if it has a version.
    pub fn new(name: &str, state: &AppState) -> Option<Self> {
        let (latest, release) = state.latest()?;
        let installs = match release {
            AppRelease::Helm { chart, version, .. } => format!("{chart}@{version}"),
            AppRelease::Manifests { .. } => "manifests".into(),
        };
        Some(Self {
            name: name.to_string(),
            latest,
            installs,
        })
    }
}

/// `placements.apply`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementApply {
    /// Placement name.
    pub name: Token,
    /// Its spec.
    pub spec: PlacementSpec,
}

/// Names a placement (`placements.get`, `placements.delete`, `placement_explanations.get`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementRef {
    /// Placement name.
    pub name: Token,
}

/// `placement_dry_runs.get`: a spec evaluated against the fleet now or as it was at a past time; nothing is
/// written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementDryRun {
    /// The placement's name: if it exists, its decision at that time is what `steady` keeps.
    pub name: Token,
    /// The spec to evaluate.
    pub spec: PlacementSpec,
    /// Evaluate against the fleet as the log held it at this Unix time, ms (default: now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_unix_ms: Option<u64>,
}

/// One placement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlacementView {
    /// Name.
    pub name: String,
    /// The app placed.
    #[serde(with = "as_text")]
    pub app: AppRef,
    /// Spec generation.
    pub generation: u64,
    /// Deleted (its app leaves every cluster).
    pub deleted: bool,
    /// The spec.
    pub spec: PlacementSpec,
    /// The clusters its last decision chose (`site/cluster`).
    pub chosen: Vec<String>,
    /// The spec generation that decision was made for (behind `generation`: a decision is due).
    pub decided_generation: Option<u64>,
    /// Why, as decided.
    pub summary: Option<String>,
    /// When it was decided (Unix ms).
    pub decided_at_unix_ms: Option<u64>,
}

impl PlacementView {
    /// The view of `state`, if it was ever applied.
    pub fn new(name: &str, state: &PlacementState) -> Option<Self> {
        let spec = state.spec.clone()?;
        let decision = state.decision.as_ref();
        Some(Self {
            name: name.to_string(),
            app: spec.app.clone(),
            generation: state.generation,
            deleted: state.deleted,
            spec,
            chosen: state.placed().iter().map(ToString::to_string).collect(),
            decided_generation: decision.map(|d| d.generation),
            summary: decision.map(|d| d.summary.clone()),
            decided_at_unix_ms: decision.map(|d| d.at.physical_ms),
        })
    }
}

/// One row of `placements.list`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlacementRow {
    /// Name.
    pub name: String,
    /// The app placed.
    pub app: String,
    /// Clusters chosen.
    pub chosen: usize,
    /// Clusters wanted (absent: every cluster that fits).
    pub wanted: Option<u32>,
    /// Deleted.
    pub deleted: bool,
}

impl PlacementRow {
    /// The row of `state`, if it was ever applied.
    pub fn new(name: &str, state: &PlacementState) -> Option<Self> {
        let spec = state.spec.as_ref()?;
        Some(Self {
            name: name.to_string(),
            app: spec.app.to_string(),
            chosen: state.placed().len(),
            wanted: spec.number_of_clusters,
            deleted: state.deleted,
        })
    }
}

/// `placement_explanations.get` and `placement_dry_runs.get`: the decision the spec gives over the fleet, every
/// cluster explained, next to what is recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlacementExplanationView {
    /// The placement.
    pub name: String,
    /// A dry run (nothing written), or the explanation of the recorded placement.
    pub dry_run: bool,
    /// The fleet as of this Unix time, ms (absent: now).
    pub at_unix_ms: Option<u64>,
    /// The clusters the recorded decision chose (`site/cluster`), if any.
    pub recorded: Vec<String>,
    /// The decision and its explanation.
    pub decision: PlacementDecision,
}
