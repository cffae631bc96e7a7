//! What needs an operator's attention, counted from the API's views, and the filters behind each count: a count on
//! the first screen links to the list it counts, filtered by the same predicate, so the two always agree.

use crate::api_types::views::{
    ClusterView, CopyHealth, NodeView, QuarantineView, RolloutView, SiteConnection, SiteView,
};
use actors::node::NodeLifecycle;

/// A filter of the sites list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteFilter {
    /// Every site.
    All,
    /// Beacons stopped.
    Offline,
    /// Events not copied to the hub yet, or the copy stalled.
    ReplicationBacklog,
    /// Telemetry waiting or retried at the hub's delivery.
    TelemetryBacklog,
}

/// A filter of the nodes list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeFilter {
    /// Every node.
    All,
    /// Failed, or silent at its site.
    FailedOrSilent,
    /// Its last OS update failed (rolled back to the other slot).
    UpdateFailed,
}

/// A filter of the rollouts list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloutFilter {
    /// Every rollout.
    All,
    /// Paused, by an operator, a spent budget or a breached gate.
    Paused,
    /// A cluster of it failed or rolled back.
    Failed,
}

impl SiteFilter {
    /// The query value (`/sites?show=…`) and back.
    pub const NAMES: [(SiteFilter, &'static str); 4] = [
        (SiteFilter::All, "all"),
        (SiteFilter::Offline, "offline"),
        (SiteFilter::ReplicationBacklog, "replication-backlog"),
        (SiteFilter::TelemetryBacklog, "telemetry-backlog"),
    ];

    /// True if `site` passes.
    pub fn keeps(self, site: &SiteView) -> bool {
        match self {
            SiteFilter::All => true,
            SiteFilter::Offline => site.connection == SiteConnection::Disconnected,
            SiteFilter::ReplicationBacklog => site.replication_lag > 0 || site.copy == CopyHealth::Stalled,
            SiteFilter::TelemetryBacklog => site
                .telemetry
                .iter()
                .any(|t| t.backlog_batches > 0 || t.retrying.is_some()),
        }
    }
}

impl NodeFilter {
    /// The query value (`/nodes?show=…`) and back.
    pub const NAMES: [(NodeFilter, &'static str); 3] = [
        (NodeFilter::All, "all"),
        (NodeFilter::FailedOrSilent, "failed-or-silent"),
        (NodeFilter::UpdateFailed, "update-failed"),
    ];

    /// True if `node` passes.
    pub fn keeps(self, node: &NodeView) -> bool {
        match self {
            NodeFilter::All => true,
            NodeFilter::FailedOrSilent => node.state == NodeLifecycle::Failed || node.silent,
            NodeFilter::UpdateFailed => node.os_last_failure.is_some(),
        }
    }
}

impl RolloutFilter {
    /// The query value (`/rollouts?show=…`) and back.
    pub const NAMES: [(RolloutFilter, &'static str); 3] = [
        (RolloutFilter::All, "all"),
        (RolloutFilter::Paused, "paused"),
        (RolloutFilter::Failed, "failed"),
    ];

    /// True if `rollout` passes.
    pub fn keeps(self, rollout: &RolloutView) -> bool {
        match self {
            RolloutFilter::All => true,
            RolloutFilter::Paused => rollout.state.starts_with("paused"),
            RolloutFilter::Failed => rollout
                .waves
                .iter()
                .flatten()
                .any(|c| c.status.starts_with("failed") || c.status == "rolled-back"),
        }
    }
}

/// The filter named `name` among `names`, if any.
pub fn named<F: Copy>(names: &[(F, &'static str)], name: &str) -> Option<F> {
    names.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
}

/// The name of `filter` among `names`.
pub fn name_of<F: Copy + PartialEq>(names: &[(F, &'static str)], filter: F) -> &'static str {
    names
        .iter()
        .find(|(f, _)| *f == filter)
        .map(|(_, n)| *n)
        .unwrap_or("all")
}

/// One line of the first screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttentionLine {
    /// What is counted.
    pub what: &'static str,
    /// How many.
    pub count: usize,
    /// The filtered list.
    pub href: String,
    /// More, e.g. the longest offline time or why rollouts paused.
    pub detail: Option<String>,
}

/// Everything the first screen counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    /// What needs attention, in the order shown.
    pub lines: Vec<AttentionLine>,
    /// Sites, nodes, clusters, rollouts.
    pub totals: [(&'static str, usize, &'static str); 4],
}

/// The fleet as the API shows it, for the first screen.
pub struct FleetViews<'a> {
    /// Every site.
    pub sites: &'a [SiteView],
    /// Every node.
    pub nodes: &'a [NodeView],
    /// Every cluster.
    pub clusters: &'a [ClusterView],
    /// Every rollout.
    pub rollouts: &'a [RolloutView],
    /// Every quarantined message.
    pub quarantine: &'a [QuarantineView],
}

/// Counts what needs attention at `now_unix_ms`.
pub fn attention(fleet: &FleetViews<'_>, now_unix_ms: u64) -> Attention {
    let sites = |f: SiteFilter| fleet.sites.iter().filter(|s| f.keeps(s)).count();
    let nodes = |f: NodeFilter| fleet.nodes.iter().filter(|n| f.keeps(n)).count();
    let rollouts = |f: RolloutFilter| fleet.rollouts.iter().filter(|r| f.keeps(r)).count();
    let longest_offline = fleet
        .sites
        .iter()
        .filter(|s| SiteFilter::Offline.keeps(s))
        .filter_map(|s| {
            s.last_seen_unix_ms
                .map(|seen| (now_unix_ms.saturating_sub(seen), &s.site))
        })
        .max();
    let pause_reasons: std::collections::BTreeSet<&str> = fleet
        .rollouts
        .iter()
        .filter(|r| RolloutFilter::Paused.keeps(r))
        .map(|r| r.state.trim_start_matches("paused: "))
        .collect();
    let site_href = |f| format!("/sites?show={}", name_of(&SiteFilter::NAMES, f));
    let node_href = |f| format!("/nodes?show={}", name_of(&NodeFilter::NAMES, f));
    let rollout_href = |f| format!("/rollouts?show={}", name_of(&RolloutFilter::NAMES, f));
    let lines = vec![
        AttentionLine {
            what: "sites offline",
            count: sites(SiteFilter::Offline),
            href: site_href(SiteFilter::Offline),
            detail: longest_offline.map(|(ms, site)| format!("longest: {site}, {}", ago(ms))),
        },
        AttentionLine {
            what: "sites with a replication backlog",
            count: sites(SiteFilter::ReplicationBacklog),
            href: site_href(SiteFilter::ReplicationBacklog),
            detail: None,
        },
        AttentionLine {
            what: "sites with a telemetry backlog",
            count: sites(SiteFilter::TelemetryBacklog),
            href: site_href(SiteFilter::TelemetryBacklog),
            detail: None,
        },
        AttentionLine {
            what: "nodes failed or silent",
            count: nodes(NodeFilter::FailedOrSilent),
            href: node_href(NodeFilter::FailedOrSilent),
            detail: None,
        },
        AttentionLine {
            what: "nodes whose OS update failed",
            count: nodes(NodeFilter::UpdateFailed),
            href: node_href(NodeFilter::UpdateFailed),
            detail: None,
        },
        AttentionLine {
            what: "rollouts with failed or rolled-back clusters",
            count: rollouts(RolloutFilter::Failed),
            href: rollout_href(RolloutFilter::Failed),
            detail: None,
        },
        AttentionLine {
            what: "rollouts paused",
            count: rollouts(RolloutFilter::Paused),
            href: rollout_href(RolloutFilter::Paused),
            detail: (!pause_reasons.is_empty()).then(|| pause_reasons.into_iter().collect::<Vec<_>>().join(", ")),
        },
        AttentionLine {
            what: "quarantined messages",
            count: fleet.quarantine.len(),
            href: "/quarantine".into(),
            detail: None,
        },
    ];
    Attention {
        lines,
        totals: [
            ("sites", fleet.sites.len(), "/sites"),
            ("nodes", fleet.nodes.len(), "/nodes"),
            ("clusters", fleet.clusters.len(), "/clusters"),
            ("rollouts", fleet.rollouts.len(), "/rollouts"),
        ],
    }
}

/// `ms` as a short duration: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn ago(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=3_599 => format!("{} min", s / 60),
        3_600..=86_399 => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3_600),
    }
}
