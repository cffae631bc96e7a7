//! A placement decision and its explanation: per cluster, the filter that removed it or its scores, and a summary
//! that says why the chosen set is what it is — also when it is empty.

use super::candidate::ClusterKey;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a placement decided, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementDecision {
    /// The clusters chosen, in the order they were chosen.
    pub chosen: Vec<ClusterKey>,
    /// Every cluster considered, in key order.
    pub clusters: Vec<ClusterVerdict>,
    /// One paragraph: how many were considered, removed by which filter, scored, chosen.
    pub summary: String,
    /// With decision groups: each group's chosen clusters, in delivery order (empty without groups).
    #[serde(default)]
    pub groups: Vec<(String, Vec<ClusterKey>)>,
}

/// One cluster's part in a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterVerdict {
    /// The cluster.
    pub cluster: ClusterKey,
    /// Removed, or scored.
    pub verdict: Verdict,
}

/// Removed by a filter, or scored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Verdict {
    /// A filter removed it.
    Filtered {
        /// The filter (`offline`, `deleted`, or the predicate as written).
        by: String,
        /// What the cluster has instead.
        reason: String,
    },
    /// It passed every filter.
    Scored {
        /// Per prioritizer: (name, score 0..=100, weight).
        scores: Vec<(String, u32, u32)>,
        /// The weighted total.
        total: u64,
        /// Chosen, and why or why not.
        chosen: bool,
        /// Why chosen or not.
        why: String,
    },
}

impl fmt::Display for PlacementDecision {
    /// A table of every cluster, then the summary: stable, for the CLI and snapshots.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for entry in &self.clusters {
            match &entry.verdict {
                Verdict::Filtered { by, reason } => {
                    writeln!(f, "  {:<24} removed by {by}: {reason}", entry.cluster.to_string())?
                }
                Verdict::Scored {
                    scores,
                    total,
                    chosen,
                    why,
                } => {
                    let parts: Vec<String> = scores.iter().map(|(n, s, w)| format!("{n} {s}x{w}")).collect();
                    let mark = if *chosen { "chosen" } else { "not chosen" };
                    writeln!(
                        f,
                        "  {:<24} {mark}, total {total} ({}): {why}",
                        entry.cluster.to_string(),
                        if parts.is_empty() {
                            "no prioritizers".to_string()
                        } else {
                            parts.join(", ")
                        }
                    )?
                }
            }
        }
        for (name, clusters) in &self.groups {
            let clusters: Vec<String> = clusters.iter().map(ToString::to_string).collect();
            let listed = if clusters.is_empty() {
                "none".to_string()
            } else {
                clusters.join(", ")
            };
            writeln!(f, "  group {name}: {listed}")?;
        }
        writeln!(f, "{}", self.summary)
    }
}
