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
