//! Shared builders for the planner tables: a fleet written event by event (hub and site origins in their own
//! streams), profiles with an OS version, and observed agents.
#![allow(dead_code)]

use actors::node::Membership;
use actors::plan::{ObservedNode, ObservedOs, Provisioned, SiteObserved};
use events::cluster::{ClusterEvent, ProfileRef};
use events::node::{NodeEvent, NodeRole, RootSlot};
use events::profile::ProfileEvent;
use events::rollout::ClusterTarget;
use events::{AggregateKind, AggregateRef, Scope, Token};
use testkit::fixtures::{sample_inventory, sample_layers, FixtureLog};
use testkit::token;

pub const SITE: &str = "store-1";

pub fn site() -> Token {
    token(SITE)
}

pub fn node_ref(id: &str) -> AggregateRef {
    AggregateRef::node(&site(), &token(id))
}

pub fn cluster_ref(id: &str) -> AggregateRef {
    AggregateRef::cluster(&site(), &token(id))
}

pub fn rollout_ref(scope: Scope, id: &str) -> AggregateRef {
    AggregateRef {
        kind: AggregateKind::Rollout,
        scope,
        id: token(id),
    }
}

pub fn profile(version: u32) -> ProfileRef {
    ProfileRef {
        name: token("edge"),
        version,
    }
}

pub fn target(cluster: &str) -> ClusterTarget {
    ClusterTarget {
        site: site(),
        cluster: token(cluster),
    }
}

/// The OS version profile `edge@v` carries.
pub fn os_version(version: u32) -> String {
    format!("2026.{}", 10 + version)
}

/// Publishes `edge@1..=versions`, version v with OS `2026.(10+v)`.
pub fn publish(log: &mut FixtureLog, versions: u32) {
    for version in 1..=versions {
        let mut layers = sample_layers("v1.31.4+k3s1");
        layers.os.version = os_version(version);
        layers.os.sha256 = format!("{version:064x}");
        log.hub(
            &AggregateRef::profile(&token("edge")),
            ProfileEvent::VersionPublished { version, layers },
            "ops",
        );
    }
}

pub fn register(log: &mut FixtureLog, node: &str, n: u32) {
    log.site(
        &node_ref(node),
        NodeEvent::Registered {
            inventory: sample_inventory(n),
        },
        "agent",
    );
}

/// A cluster formed from the site image with `members` (the first control plane), every member joined, provisioned
/// and ready, the cluster ready on `edge@1` — what a site looks like after forming offline.
pub fn ready_site_image_cluster(log: &mut FixtureLog, members: &[&str]) {
    let cluster = cluster_ref("main");
    log.site(
        &cluster,
        ClusterEvent::Formed {
            profile: profile(1),
            observed_generation: 0,
        },
        "controller",
    );
    for (i, node) in members.iter().enumerate() {
        let role = if i == 0 {
            NodeRole::ControlPlane
        } else {
            NodeRole::Worker
        };
        register(log, node, i as u32 + 1);
        log.site(
            &cluster,
            ClusterEvent::MemberJoined {
                node: token(node),
                role,
            },
            "controller",
        );
        log.site(
            &node_ref(node),
            NodeEvent::Joined {
                cluster: token("main"),
                role,
                observed_generation: 0,
            },
            "controller",
        )
        .site(
            &node_ref(node),
            NodeEvent::Provisioning { observed_generation: 0 },
            "controller",
        )
        .site(
            &node_ref(node),
            NodeEvent::Ready { observed_generation: 0 },
            "controller",
        )
        .site(
            &node_ref(node),
            NodeEvent::OsUpdated {
                version: os_version(1),
                slot: "ROOT-A".into(),
            },
            "controller",
        );
    }
    log.site(
        &cluster,
        ClusterEvent::Ready {
            profile: profile(1),
            observed_generation: 0,
        },
        "controller",
    );
}

/// Agents of `members` heard just now, each applying its membership in `main` and running `os`; the runtime
/// installed `installed` on each.
pub fn observed(members: &[(&str, NodeRole)], os: &str, installed: &ProfileRef) -> SiteObserved {
    let mut observed = SiteObserved::default();
    for (node, role) in members {
        let membership = Membership {
            cluster: token("main"),
            role: *role,
        };
        observed.nodes.insert(
            token(node),
            ObservedNode {
                heard_ms_ago: 100,
                applied: Some(membership),
                os: Some(ObservedOs {
                    version: Some(os.to_string()),
                    slot: Some(RootSlot::A),
                    failure: None,
                }),
                provisioned: Some(Provisioned {
                    cluster: token("main"),
                    role: *role,
                    profile: installed.clone(),
                }),
            },
        );
    }
    observed
}
