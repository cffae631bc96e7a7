//! A cluster as placement sees it: its site's and its own labels, its members' inventory, its site's time zone and
//! connectivity, its load. Built from the hub's projection (and telemetry) by the caller; plain data here.

pub use events::placement::ClusterKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One cluster with everything a placement may ask of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterCandidate {
    /// Which cluster.
    pub key: ClusterKey,
    /// Its site's labels.
    pub site_labels: BTreeMap<String, String>,
    /// Its own labels.
    pub cluster_labels: BTreeMap<String, String>,
    /// Its site's IANA time zone, when the site said.
    pub timezone: Option<String>,
    /// Logical CPUs over its members.
    pub cpus: u32,
    /// Memory over its members, MiB.
    pub memory_mib: u64,
    /// Its members' labels, one map per member (a GPU is a node label, e.g. `accelerator=nvidia-t4`).
    pub node_labels: Vec<BTreeMap<String, String>>,
    /// How long its site has been unreachable from the hub, ms (`None`: connected).
    pub offline_for_ms: Option<u64>,
    /// Load in per mille of its capacity (telemetry's load average per CPU, or apps per CPU), when known.
    pub load_permille: Option<u32>,
    /// Deleted (or being deleted): never a candidate.
    pub deleted: bool,
}
