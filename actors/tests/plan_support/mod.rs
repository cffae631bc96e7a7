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
    log.cluster_observed("main", formed(1, 0));
    for (i, node) in members.iter().enumerate() {
        let role = if i == 0 {
            NodeRole::ControlPlane
        } else {
            NodeRole::Worker
        };
        register(log, node, i as u32 + 1);
        log.cluster_observed("main", member_joined(node, role))
            .node_observed(node, joined_main(role))
            .node_observed(node, NodeEvent::Provisioning { observed_generation: 0 })
            .node_observed(node, NodeEvent::Ready { observed_generation: 0 })
            .node_observed(node, os_updated(1, "ROOT-A"));
    }
    log.cluster_observed("main", cluster_ready(1, 0));
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
                reset_done: None,
            },
        );
    }
    observed
}

/// Short ways to write what hubs and sites write about one site's aggregates.
pub trait StoreLog {
    /// Hub: cluster `id` created on `edge@version`.
    fn cluster_created(&mut self, id: &str, generation: u64, version: u32) -> &mut Self;
    /// Hub: cluster `id` moved to `edge@version`.
    fn profile_changed(&mut self, id: &str, generation: u64, version: u32) -> &mut Self;
    /// Hub: cluster `id` deleted.
    fn cluster_deleted(&mut self, id: &str, generation: u64) -> &mut Self;
    /// Site: an event of cluster `id`.
    fn cluster_observed(&mut self, id: &str, event: ClusterEvent) -> &mut Self;
    /// Site: an event of node `id`.
    fn node_observed(&mut self, id: &str, event: NodeEvent) -> &mut Self;
    /// Hub: an event of node `id`.
    fn node_intent(&mut self, id: &str, event: NodeEvent) -> &mut Self;
}

impl StoreLog for FixtureLog {
    fn cluster_created(&mut self, id: &str, generation: u64, version: u32) -> &mut Self {
        let created = ClusterEvent::Created {
            generation,
            profile: profile(version),
            overrides: Default::default(),
        };
        self.hub(&cluster_ref(id), created, "ops")
    }

    fn profile_changed(&mut self, id: &str, generation: u64, version: u32) -> &mut Self {
        let changed = ClusterEvent::ProfileChanged {
            generation,
            profile: profile(version),
        };
        self.hub(&cluster_ref(id), changed, "ops")
    }

    fn cluster_deleted(&mut self, id: &str, generation: u64) -> &mut Self {
        self.hub(&cluster_ref(id), ClusterEvent::Deleted { generation }, "ops")
    }

    fn cluster_observed(&mut self, id: &str, event: ClusterEvent) -> &mut Self {
        self.site(&cluster_ref(id), event, "controller")
    }

    fn node_observed(&mut self, id: &str, event: NodeEvent) -> &mut Self {
        self.site(&node_ref(id), event, "controller")
    }

    fn node_intent(&mut self, id: &str, event: NodeEvent) -> &mut Self {
        self.hub(&node_ref(id), event, "ops")
    }
}

/// `NodeOsUpdated` on `slot`.
pub fn os_updated(version: u32, slot: &str) -> NodeEvent {
    NodeEvent::OsUpdated {
        version: os_version(version),
        slot: slot.into(),
    }
}

/// `NodeJoined` of `main` acting on generation 0.
pub fn joined_main(role: NodeRole) -> NodeEvent {
    NodeEvent::Joined {
        cluster: token("main"),
        role,
        observed_generation: 0,
    }
}

/// `ClusterFormed` on `edge@version`.
pub fn formed(version: u32, observed_generation: u64) -> ClusterEvent {
    ClusterEvent::Formed {
        profile: profile(version),
        observed_generation,
    }
}

/// `ClusterMemberJoined`.
pub fn member_joined(node: &str, role: NodeRole) -> ClusterEvent {
    ClusterEvent::MemberJoined {
        node: token(node),
        role,
    }
}

/// `ClusterReady` on `edge@version`.
pub fn cluster_ready(version: u32, observed_generation: u64) -> ClusterEvent {
    ClusterEvent::Ready {
        profile: profile(version),
        observed_generation,
    }
}

/// Labels `rack=r1`, as a hub node intent.
pub fn rack_label(generation: u64) -> NodeEvent {
    NodeEvent::LabelsSet {
        generation,
        labels: [("rack".to_string(), "r1".to_string())].into(),
    }
}
