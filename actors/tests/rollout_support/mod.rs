//! Event builders shared by the rollout tests. Each test crate uses a subset.
#![allow(dead_code)]

use actors::Rejection;
use events::cluster::ProfileRef;
use events::rollout::{ClusterTarget, PauseReason, RolloutEvent};
use testkit::token;

/// `site/cluster`.
pub fn target(site: &str, cluster: &str) -> ClusterTarget {
    ClusterTarget {
        site: token(site),
        cluster: token(cluster),
    }
}

/// `edge@version`; the rollouts under test move to version 2.
pub fn profile(version: u32) -> ProfileRef {
    ProfileRef {
        name: token("edge"),
        version,
    }
}

/// Wave `wave` released at `at`, as the hub's `wave + 2`nd event (after `Created` and the earlier waves).
pub fn released(wave: u32, at: u64) -> RolloutEvent {
    RolloutEvent::WaveReleased {
        generation: u64::from(wave) + 2,
        wave,
        released_unix_s: at,
    }
}

/// The site started updating, acting on generation 2.
pub fn started(site: &str, cluster: &str) -> RolloutEvent {
    RolloutEvent::ClusterUpdateStarted {
        cluster: target(site, cluster),
        observed_generation: 2,
    }
}

/// The site updated the cluster to version 2.
pub fn updated(site: &str, cluster: &str) -> RolloutEvent {
    RolloutEvent::ClusterUpdated {
        cluster: target(site, cluster),
        profile: profile(2),
    }
}

/// The update failed its health check and the site reverted it.
pub fn failed(site: &str, cluster: &str) -> RolloutEvent {
    RolloutEvent::ClusterUpdateFailed {
        cluster: target(site, cluster),
        reason: "health check".into(),
        rolled_back: true,
    }
}

/// The hub skipped the cluster.
pub fn skipped(generation: u64, site: &str, cluster: &str) -> RolloutEvent {
    RolloutEvent::ClusterSkipped {
        generation,
        cluster: target(site, cluster),
        reason: "site offline".into(),
    }
}

/// The hub paused.
pub fn paused(generation: u64, reason: PauseReason) -> RolloutEvent {
    RolloutEvent::Paused { generation, reason }
}

/// The hub aborted.
pub fn aborted(generation: u64) -> RolloutEvent {
    RolloutEvent::Aborted { generation }
}

/// The site rolled the cluster back.
pub fn rolled_back(site: &str, cluster: &str) -> RolloutEvent {
    RolloutEvent::ClusterRolledBack {
        cluster: target(site, cluster),
    }
}

/// `history` followed by `more`.
pub fn then(history: &[RolloutEvent], more: &[RolloutEvent]) -> Vec<RolloutEvent> {
    [history, more].concat()
}

pub fn invalid(r: &Rejection) -> bool {
    matches!(r, Rejection::Invalid(_))
}

pub fn conflict(r: &Rejection) -> bool {
    matches!(r, Rejection::Conflict(_))
}

pub fn not_found(r: &Rejection) -> bool {
    matches!(r, Rejection::NotFound(_))
}

/// A `RolloutCreated` to `edge@2`, built by naming only what a test cares about:
/// `Creation { plan, skip_after_s: 600, ..Creation::default() }.event()`.
#[derive(Clone, Debug)]
pub struct Creation {
    /// Generation of the event.
    pub generation: u64,
    /// Cluster label selector.
    pub selector: std::collections::BTreeMap<String, String>,
    /// Cumulative waves.
    pub waves: Vec<events::rollout::WaveSpec>,
    /// Failures tolerated.
    pub failure_budget: u32,
    /// Maintenance window text.
    pub window: Option<String>,
    /// Seconds before clusters of offline sites are skipped.
    pub skip_after_s: u64,
    /// Clusters per wave.
    pub plan: Vec<Vec<ClusterTarget>>,
    /// Hub time of the creation.
    pub created_unix_s: u64,
}

impl Default for Creation {
    /// Budget 1, any time, skip after 600 s, created at 1 s, generation 1, no plan.
    fn default() -> Self {
        Self {
            generation: 1,
            selector: Default::default(),
            waves: vec![
                events::rollout::WaveSpec::Count(1),
                events::rollout::WaveSpec::Percent(100),
            ],
            failure_budget: 1,
            window: None,
            skip_after_s: 600,
            plan: vec![],
            created_unix_s: 1,
        }
    }
}

impl Creation {
    /// The event.
    pub fn event(self) -> RolloutEvent {
        RolloutEvent::Created {
            generation: self.generation,
            profile: profile(2),
            selector: self.selector,
            waves: self.waves,
            failure_budget: self.failure_budget,
            window: self.window,
            skip_after_s: self.skip_after_s,
            plan: self.plan,
            created_unix_s: self.created_unix_s,
        }
    }
}

/// Waves [site-1/a], [site-1/b, site-2/a]: the plan most rollout tests use.
pub fn two_waves() -> Vec<Vec<ClusterTarget>> {
    vec![
        vec![target("site-1", "a")],
        vec![target("site-1", "b"), target("site-2", "a")],
    ]
}
