//! `node_samples.get`: a node's recent load, CPU and memory, read from the hub's copy of its site's telemetry (what
//! the dashboard draws as sparklines).

use events::Token;
use serde::{Deserialize, Serialize};
use telemetry::recent_series::RecentSeries;

/// The longest look back.
pub const MAX_MINUTES: u32 = 24 * 60;
/// The look back when none is asked for.
pub const DEFAULT_MINUTES: u32 = 30;

/// `node_samples.get`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSamplesRequest {
    /// The node's site.
    pub site: Token,
    /// The node.
    pub id: Token,
    /// How far back, in minutes (default 30, at most a day).
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// A node's recent series.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeSamplesView {
    /// Site.
    pub site: String,
    /// Node.
    pub node: String,
    /// Batches stored since then were read, ms since the epoch.
    pub since_unix_ms: u64,
    /// Batches read.
    pub batches: usize,
    /// Load, CPU busy, memory used.
    pub series: Vec<RecentSeries>,
}
