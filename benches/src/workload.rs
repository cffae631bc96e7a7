//! The benchmark workload: a deterministic, realistic mix of node events written by one site.
//!
//! Event `i` belongs to node `i % nodes` and is that node's `i / nodes`-th event, so the log interleaves nodes the
//! way a busy site's stream does. Each node registers (with inventory), joins a cluster, provisions and becomes
//! ready; after that it cycles through silence/return transitions and the odd failure and recovery. No heartbeats:
//! liveness is not history (DESIGN §7), only its transitions are.

use bytes::Bytes;
use events::node::{NodeEvent, NodeRole};
use events::{subject, AggregateRef, Envelope, EventId, Hlc, Origin, Token, Writer};
use testkit::fixtures::{sample_inventory, FIXTURE_EPOCH_MS};

/// Nodes per simulated cluster at the bench site; the first three of each run the control plane.
const NODES_PER_CLUSTER: u32 = 10;
/// Milliseconds between consecutive events of the site (keeps ids and clocks strictly increasing).
const EVENT_SPACING_MS: u64 = 10;

/// A site and its nodes, able to produce the `i`-th event of the log.
pub struct Workload {
    site: Token,
    nodes: Vec<AggregateRef>,
    clusters: Vec<Token>,
    agents: Vec<String>,
}

/// One encoded event, ready to publish or decode.
#[derive(Clone)]
pub struct EncodedEvent {
    /// Index of its node in [`Workload::subjects`].
    pub node: u32,
    /// The event's id (for `Nats-Msg-Id` when asked to set it).
    pub id: EventId,
    /// `events::encode` output.
    pub bytes: Bytes,
}

impl Workload {
    /// A site named `site` with `nodes` nodes (`n0`, `n1`, …).
    pub fn new(site: &Token, nodes: u32) -> Self {
        assert!(nodes > 0, "the workload needs at least one node");
        let node_refs = (0..nodes)
            .map(|n| AggregateRef::node(site, &testkit::token(&format!("n{n}"))))
            .collect();
        let clusters = (0..nodes.div_ceil(NODES_PER_CLUSTER))
            .map(|c| testkit::token(&format!("pool-{c}")))
            .collect();
        let agents = (0..nodes).map(|n| format!("agent:n{n}")).collect();
        Self {
            site: site.clone(),
            nodes: node_refs,
            clusters,
            agents,
        }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// The site's subject of each node, indexed like [`EncodedEvent::node`].
    pub fn subjects(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| match subject::subject(Writer::Site, node) {
                Some(subject) => subject,
                None => unreachable!("a site writes its own nodes"),
            })
            .collect()
    }

    /// The `i`-th event of the log (0-based).
    pub fn envelope(&self, i: u64) -> Envelope {
        let node_count = self.nodes.len() as u64;
        let node = (i % node_count) as u32;
        let step = i / node_count;
        let at_ms = FIXTURE_EPOCH_MS + i * EVENT_SPACING_MS;
        Envelope {
            id: EventId::from_parts(at_ms, u128::from(i) + 1),
            aggregate: self.nodes[node as usize].clone(),
            origin: Origin::Site(self.site.clone()),
            hlc: Hlc {
                physical_ms: at_ms,
                logical: 0,
            },
            by: Some(self.agents[node as usize].clone()),
            payload: self.node_event(node, step, at_ms).into(),
        }
    }

    /// The first `count` events, encoded.
    pub fn encode(&self, count: u64) -> Vec<EncodedEvent> {
        (0..count)
            .map(|i| {
                let envelope = self.envelope(i);
                debug_assert!(envelope.validate().is_ok(), "workload event {i} is invalid");
                EncodedEvent {
                    node: (i % self.nodes.len() as u64) as u32,
                    id: envelope.id,
                    bytes: Bytes::from(events::encode(&envelope)),
                }
            })
            .collect()
    }

    /// What happens to `node` at its `step`-th event.
    fn node_event(&self, node: u32, step: u64, at_ms: u64) -> NodeEvent {
        match step {
            0 => NodeEvent::Registered {
                inventory: sample_inventory(node),
            },
            1 => NodeEvent::Joined {
                cluster: self.clusters[(node / NODES_PER_CLUSTER) as usize].clone(),
                role: if node % NODES_PER_CLUSTER < 3 {
                    NodeRole::ControlPlane
                } else {
                    NodeRole::Worker
                },
                observed_generation: 0,
            },
            2 => NodeEvent::Provisioning { observed_generation: 0 },
            3 => NodeEvent::Ready { observed_generation: 0 },
            // Steady state: mostly silence and return, now and then a failed health check and a re-provision.
            _ => match (step - 4) % 9 {
                0 | 2 | 4 => NodeEvent::WentSilent {
                    last_seen: Hlc {
                        physical_ms: at_ms.saturating_sub(30_000),
                        logical: 0,
                    },
                },
                1 | 3 | 5 => NodeEvent::CameBack,
                6 => NodeEvent::Failed {
                    observed_generation: 0,
                    reason: "health check failed: kubelet not ready".into(),
                },
                7 => NodeEvent::Provisioning { observed_generation: 0 },
                _ => NodeEvent::Ready { observed_generation: 0 },
            },
        }
    }
}
