//! Placement events: which clusters an app goes to, decided at the hub from the placement's spec over the fleet.
//! The operator applies or deletes a placement; the hub's planner records each decision with its summary. Plain,
//! externally tagged data (postcard is not self-describing); the manifest's friendlier shape is the CLI's.

use crate::app::AppRef;
use crate::origin::Writer;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A cluster of the fleet: `site/cluster`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClusterKey {
    /// The site.
    pub site: String,
    /// The cluster at that site.
    pub cluster: String,
}

impl fmt::Display for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.site, self.cluster)
    }
}

/// A placement of one application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    /// The application placed, at a version.
    pub app: AppRef,
    /// Every predicate must hold, in this order (the first that fails is the one reported).
    #[serde(default)]
    pub predicates: Vec<Predicate>,
    /// Scores of the clusters that pass; higher wins.
    #[serde(default)]
    pub prioritizers: Vec<Prioritizer>,
    /// At most this many clusters (absent: every cluster that passes).
    #[serde(default)]
    pub number_of_clusters: Option<u32>,
    /// A site unreachable for less than this many seconds keeps its clusters eligible (absent or 0: an offline
    /// site's clusters are removed at once).
    #[serde(default)]
    pub tolerate_offline_s: Option<u64>,
    /// Choose at most one cluster per value of this label (site label, else cluster label) before a second.
    #[serde(default)]
    pub spread_by: Option<String>,
    /// Staged delivery: the chosen clusters are split into these groups, in order (a cluster joins the first group
    /// whose selector its site's or its own labels match; the others form a last group, `rest`), and a group gets
    /// the app only once every cluster of the groups before it runs it.
    #[serde(default)]
    pub groups: Vec<DecisionGroup>,
}

/// One group of a staged delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionGroup {
    /// Its name (`canary`).
    pub name: String,
    /// The clusters it takes: those whose site's or own labels match.
    pub selector: LabelMatch,
}

/// The name of the group of chosen clusters no group's selector took.
pub const REST_GROUP: &str = "rest";

impl DecisionGroup {
    /// Whether a cluster with these labels belongs to it.
    pub fn takes(&self, site_labels: &BTreeMap<String, String>, cluster_labels: &BTreeMap<String, String>) -> bool {
        self.selector.holds(site_labels) || self.selector.holds(cluster_labels)
    }
}

/// A required condition on a cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicate {
    /// A label of the cluster's site.
    SiteLabel(LabelMatch),
    /// A label of the cluster itself.
    ClusterLabel(LabelMatch),
    /// At least one member carries this label (a GPU, a camera, a scale).
    NodeLabel(LabelMatch),
    /// At least this many CPUs over the members.
    MinCpus(u32),
    /// At least this much memory over the members, MiB.
    MinMemoryMib(u64),
    /// The site's time zone is one of these (a region by its zones).
    TimezoneIn(Vec<String>),
}

/// A label condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelMatch {
    /// The key.
    pub key: String,
    /// How the value is checked.
    pub op: LabelOp,
    /// The values (`in`, `not_in`).
    #[serde(default)]
    pub values: Vec<String>,
}

/// Label operators, as Kubernetes selectors have them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelOp {
    /// The value is one of `values`.
    In,
    /// The key is absent, or its value is none of `values`.
    NotIn,
    /// The key is present.
    Exists,
    /// The key is absent.
    DoesNotExist,
}

impl LabelMatch {
    /// Whether `labels` satisfy it.
    pub fn holds(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.op {
            LabelOp::In => value.is_some_and(|v| self.values.contains(v)),
            LabelOp::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            LabelOp::Exists => value.is_some(),
            LabelOp::DoesNotExist => value.is_none(),
        }
    }
}

impl fmt::Display for LabelMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            LabelOp::In => write!(f, "{} in [{}]", self.key, self.values.join(", ")),
            LabelOp::NotIn => write!(f, "{} not in [{}]", self.key, self.values.join(", ")),
            LabelOp::Exists => write!(f, "{} exists", self.key),
            LabelOp::DoesNotExist => write!(f, "{} does not exist", self.key),
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::SiteLabel(m) => write!(f, "site label {m}"),
            Predicate::ClusterLabel(m) => write!(f, "cluster label {m}"),
            Predicate::NodeLabel(m) => write!(f, "a node with label {m}"),
            Predicate::MinCpus(n) => write!(f, "at least {n} CPUs"),
            Predicate::MinMemoryMib(n) => write!(f, "at least {n} MiB of memory"),
            Predicate::TimezoneIn(zones) => write!(f, "time zone in [{}]", zones.join(", ")),
        }
    }
}

/// A weighted score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prioritizer {
    /// What is scored.
    pub kind: PrioritizerKind,
    /// Its weight (scores are 0..=100, times the weight).
    pub weight: u32,
}

/// What a prioritizer scores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrioritizerKind {
    /// The clusters chosen last time score 100 (OCM's Steady): damping.
    Steady,
    /// Lower load scores higher (unknown load: 50).
    LeastLoaded,
    /// More CPUs score higher, relative to the largest candidate.
    MostCpus,
    /// A numeric label of the site (else of the cluster), such as `latency-ms` or `cost`, relative to the others.
    LabelValue {
        /// The label.
        label: String,
        /// Which end scores 100.
        prefer: Prefer,
    },
}

/// Which end of a numeric label wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefer {
    /// The lowest value scores 100 (latency, cost).
    Lower,
    /// The highest value scores 100 (bandwidth).
    Higher,
}

impl fmt::Display for PrioritizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrioritizerKind::Steady => f.write_str("steady"),
            PrioritizerKind::LeastLoaded => f.write_str("least-loaded"),
            PrioritizerKind::MostCpus => f.write_str("most-cpus"),
            PrioritizerKind::LabelValue { label, prefer } => match prefer {
                Prefer::Lower => write!(f, "lower {label}"),
                Prefer::Higher => write!(f, "higher {label}"),
            },
        }
    }
}

/// Everything that can happen to a placement. Grows only by appending variants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlacementEvent {
    /// Hub: the operator applied a (new) spec.
    Applied {
        /// Spec generation this intent creates.
        generation: u64,
        /// The spec.
        spec: PlacementSpec,
    },
    /// Hub: the planner decided where the app goes, for the spec of `generation`.
    Decided {
        /// The spec generation decided on.
        generation: u64,
        /// The clusters chosen, in the order they were chosen.
        chosen: Vec<ClusterKey>,
        /// Why, in a sentence or two (the full explanation is recomputed on demand).
        summary: String,
    },
    /// Hub: the operator deleted the placement; its app leaves every cluster it chose.
    Deleted {
        /// Spec generation this intent creates.
        generation: u64,
    },
}

impl PlacementEvent {
    /// Which side may write this event: always the hub.
    pub fn writer(&self) -> Writer {
        Writer::Hub
    }

    /// Short name for histories and logs.
    pub fn name(&self) -> &'static str {
        match self {
            PlacementEvent::Applied { .. } => "PlacementApplied",
            PlacementEvent::Decided { .. } => "PlacementDecided",
            PlacementEvent::Deleted { .. } => "PlacementDeleted",
        }
    }
}
