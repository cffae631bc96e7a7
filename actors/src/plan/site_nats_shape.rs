//! The shape of a zero-touch site's NATS (DESIGN §12), decided by the site controller: which servers the JetStream
//! cluster keeps and how many copies each stream has.
//!
//! The first machine runs its server beside a **witness** (a JetStream cluster of one server cannot exist; see
//! `nats-process/tests/growing_cluster.rs`). Servers join as the site's log makes machines control-plane members, one
//! at a time. From what the controller observes of the cluster (the meta group's peers, the streams' replicas) and
//! what the log says (which nodes are control-plane members), in order:
//! 1. every stream is placed on the servers tagged `member`, never on the witness;
//! 2. with three members online, every stream keeps three copies;
//! 3. then, with every stream at three current copies, the witness leaves the meta group (a leader steps down first);
//! 4. a member that is offline and that the log knows as no longer a control-plane member (the site planner replaced
//!    it) is removed, once three others are online, and its copies move to them. A server the log does not know (a
//!    projection still catching up after the controller moved) is never removed: removal needs the log's word.
//!
//! At most one server is removed per plan. Never fewer copies: a stream's replicas only go up.

use std::collections::BTreeSet;

/// What a server of the site's JetStream cluster is, as its meta group reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsPeer {
    /// Its server name: the node id of its machine, or a witness's name.
    pub name: String,
    /// A witness (holds no stream, only votes).
    pub witness: bool,
    /// Seen by the meta leader lately.
    pub online: bool,
}

/// One stream of the site, as its own leader reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsStream {
    /// The stream's name.
    pub name: String,
    /// The copies it is configured to keep.
    pub replicas: usize,
    /// Placed by the `member` tag.
    pub on_members: bool,
    /// Every copy has caught up with its leader.
    pub all_current: bool,
}

/// What the shape is decided from.
#[derive(Debug, Clone, Copy)]
pub struct NatsShapeInputs<'a> {
    /// The meta group's leader, if it has one (nothing is decided without).
    pub meta_leader: Option<&'a str>,
    /// The meta group's peers, the leader among them.
    pub peers: &'a [NatsPeer],
    /// The site's streams.
    pub streams: &'a [NatsStream],
    /// The nodes of this site the log knows that are not control-plane members (workers, unassigned, lost, reset):
    /// the only servers that may be removed.
    pub not_control_plane: &'a BTreeSet<String>,
}

/// One change to the cluster's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatsShapeStep {
    /// Place `stream` on the member servers.
    PlaceOnMembers {
        /// The stream.
        stream: String,
    },
    /// Keep `replicas` copies of `stream`.
    Replicate {
        /// The stream.
        stream: String,
        /// How many.
        replicas: usize,
    },
    /// The meta leader is about to be removed: ask it to step down first.
    StepDownMetaLeader,
    /// Remove server `name` from the cluster (its copies move to the others).
    RemoveServer {
        /// The server.
        name: String,
        /// Why, for the log.
        reason: String,
    },
}

/// The copies every stream of a site with three member servers keeps.
pub const REPLICAS: usize = 3;

/// The next changes to the cluster's shape (see the module docs).
pub fn plan_nats_shape(inputs: &NatsShapeInputs<'_>) -> Vec<NatsShapeStep> {
    let Some(leader) = inputs.meta_leader else {
        return Vec::new();
    };
    let mut steps = Vec::new();
    for stream in inputs.streams.iter().filter(|s| !s.on_members) {
        steps.push(NatsShapeStep::PlaceOnMembers {
            stream: stream.name.clone(),
        });
    }
    let online_members = inputs.peers.iter().filter(|p| !p.witness && p.online).count();
    if online_members < REPLICAS {
        return steps;
    }
    for stream in inputs.streams.iter().filter(|s| s.replicas < REPLICAS) {
        steps.push(NatsShapeStep::Replicate {
            stream: stream.name.clone(),
            replicas: REPLICAS,
        });
    }
    if !steps.is_empty() {
        return steps;
    }
    let settled = inputs.streams.iter().all(|s| s.all_current);
    if let Some(witness) = inputs.peers.iter().find(|p| p.witness) {
        if !settled {
            return steps;
        }
        if witness.name == leader {
            return vec![NatsShapeStep::StepDownMetaLeader];
        }
        return vec![NatsShapeStep::RemoveServer {
            name: witness.name.clone(),
            reason: format!("{online_members} members online, every stream at {REPLICAS} copies"),
        }];
    }
    let replaced = inputs
        .peers
        .iter()
        .find(|p| !p.witness && !p.online && inputs.not_control_plane.contains(&p.name));
    if let Some(lost) = replaced {
        if lost.name == leader {
            return vec![NatsShapeStep::StepDownMetaLeader];
        }
        steps.push(NatsShapeStep::RemoveServer {
            name: lost.name.clone(),
            reason: "offline and no longer a control-plane member".into(),
        });
    }
    steps
}
