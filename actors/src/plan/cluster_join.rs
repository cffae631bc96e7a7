//! How a member of a cluster gets its Kubernetes on a runtime that each machine applies for itself (k3s): whether it
//! initialises the cluster or joins a server that already runs, and which one. Decided by the site controller from
//! the log (the cluster's members and health) and what agents report (the server each runs, its address, whether it
//! is heard), and sent to the member's agent in every heartbeat reply.
//!
//! The rule that keeps one cluster one etcd: **only a forming cluster is initialised, only by its lowest-id
//! control-plane member, and only while no other member runs a server of it.** Every other member joins a server
//! that runs (lowest id first among those heard with an address), or waits and says why. A cluster that has been
//! ready is never initialised again, even if every server is lost (that needs an etcd restore, not a fresh start).
//!
//! An agent keeps the way it joined while its membership stays the same (k3s reads `server:` only on its first start),
//! so what this decides matters once per member.

use crate::cluster::{ClusterHealth, ClusterState};
use events::node::NodeRole;
use events::Token;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What an agent reports of a machine, for deciding how others join.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberSeen {
    /// The machine's address on the site's network, if it said.
    pub address: Option<IpAddr>,
    /// The cluster whose server (control plane) the machine runs, if any.
    pub serves: Option<Token>,
    /// Heard lately (not silent).
    pub live: bool,
}

/// How a member gets its Kubernetes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterJoin {
    /// Initialise the cluster: the first server (`cluster-init`).
    Init,
    /// Join through the server that `server` runs at `address`.
    Via {
        /// The member running that server.
        server: Token,
        /// Its address.
        address: IpAddr,
    },
    /// Nothing to join yet; why.
    Wait(String),
}

/// How `node`, a member of `cluster_id` (`cluster`) with `role`, gets its Kubernetes, given what is seen of every
/// machine of the site.
pub fn plan_cluster_join(
    node: &Token,
    role: NodeRole,
    cluster_id: &Token,
    cluster: &ClusterState,
    seen: &BTreeMap<Token, MemberSeen>,
) -> ClusterJoin {
    let control_plane: Vec<&Token> = cluster
        .status
        .members
        .iter()
        .filter(|(_, r)| **r == NodeRole::ControlPlane)
        .map(|(id, _)| id)
        .collect();
    let serving = |id: &Token| seen.get(id).is_some_and(|s| s.serves.as_ref() == Some(cluster_id));
    let others_serving: Vec<&Token> = control_plane
        .iter()
        .copied()
        .filter(|id| *id != node && serving(id))
        .collect();
    let reachable = others_serving.iter().find_map(|id| {
        seen.get(*id)
            .filter(|s| s.live)
            .and_then(|s| s.address)
            .map(|a| (*id, a))
    });
    if let Some((server, address)) = reachable {
        return ClusterJoin::Via {
            server: server.clone(),
            address,
        };
    }
    let forming = cluster.status.health == ClusterHealth::Forming;
    let first = control_plane.first().copied();
    if role == NodeRole::ControlPlane && forming && first == Some(node) && others_serving.is_empty() {
        return ClusterJoin::Init;
    }
    let names = |ids: &[&Token]| ids.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
    ClusterJoin::Wait(if !others_serving.is_empty() {
        format!(
            "the servers of cluster {cluster_id} ({}) are not heard or have not said their address",
            names(&others_serving)
        )
    } else if forming {
        match first {
            Some(first) if first != node => format!("waiting for {first} to start cluster {cluster_id}'s first server"),
            _ => format!("cluster {cluster_id} has no control-plane member to start its first server"),
        }
    } else {
        format!(
            "no server of cluster {cluster_id} is running; a cluster that was ready is not initialised again (restore \
             its etcd from a snapshot)"
        )
    })
}
