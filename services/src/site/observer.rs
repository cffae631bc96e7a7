//! What the site observes of its node agents: when each was last heard, what membership it says it applied and
//! what OS it runs. Liveness is not history: this lives in memory, and a restarted site hears every agent again
//! within a heartbeat. A node the projection knows but no agent has spoken for since the start counts as last heard
//! at the start, so a node that never comes back still goes silent.

use super::cluster_runtime::ClusterRuntime;
use crate::agent_protocol::{AgentOs, RuntimeReport};
use actors::node::Membership;
use actors::plan::{MemberSeen, ObservedNode, ObservedOs, SiteObserved};
use events::Token;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Instant;

/// One agent's last word.
#[derive(Clone, Debug)]
struct AgentSeen {
    last_heard: Instant,
    applied: Option<Membership>,
    os: Option<ObservedOs>,
    reset_done: Option<u64>,
    address: Option<std::net::IpAddr>,
    runtime: Option<RuntimeReport>,
}

/// What an agent said in one heartbeat.
#[derive(Clone, Debug, Default)]
pub struct AgentWord {
    /// The membership it applied.
    pub applied: Option<Membership>,
    /// The OS it runs.
    pub os: Option<AgentOs>,
    /// The reset it carried out.
    pub reset_done: Option<u64>,
    /// Its machine's address.
    pub address: Option<std::net::IpAddr>,
    /// What its Kubernetes runs.
    pub runtime: Option<RuntimeReport>,
}

/// The site's observations of its agents.
pub struct SiteObserver {
    started: std::cell::Cell<Instant>,
    agents: RefCell<BTreeMap<Token, AgentSeen>>,
}

impl SiteObserver {
    /// An observer that has heard nobody yet.
    pub fn new() -> Self {
        Self {
            started: std::cell::Cell::new(Instant::now()),
            agents: RefCell::new(BTreeMap::new()),
        }
    }

    /// Forgets every agent and counts from now, as a controller just started (taking over from another process).
    pub fn restart_clock(&self) {
        self.started.set(Instant::now());
        self.agents.borrow_mut().clear();
    }

    /// The agent of `node` spoke: it is alive, and says what it applied and runs (what it leaves out stays as it last
    /// said).
    pub fn heard(&self, node: &Token, word: AgentWord) {
        let AgentWord {
            applied,
            os,
            reset_done,
            address,
            runtime,
        } = word;
        let mut agents = self.agents.borrow_mut();
        let seen = agents.entry(node.clone()).or_insert(AgentSeen {
            last_heard: Instant::now(),
            applied: None,
            os: None,
            reset_done: None,
            address: None,
            runtime: None,
        });
        seen.last_heard = Instant::now();
        if address.is_some() {
            seen.address = address;
        }
        if runtime.is_some() {
            seen.runtime = runtime;
        }
        if reset_done.is_some() {
            seen.reset_done = reset_done;
        }
        if applied.is_some() {
            seen.applied = applied;
        }
        if let Some(os) = os {
            seen.os = Some(ObservedOs {
                version: os.version,
                slot: os.slot,
                failure: os.failure,
            });
        }
    }

    /// Everything observed about `nodes` (the projection's registered nodes) and every agent heard, with what
    /// `runtime` installed.
    pub fn snapshot<R: ClusterRuntime>(&self, nodes: impl IntoIterator<Item = Token>, runtime: &R) -> SiteObserved {
        let agents = self.agents.borrow();
        let mut observed = SiteObserved::default();
        let all: std::collections::BTreeSet<Token> = nodes.into_iter().chain(agents.keys().cloned()).collect();
        for node in all {
            let seen = agents.get(&node);
            observed.nodes.insert(
                node.clone(),
                ObservedNode {
                    heard_ms_ago: seen.map_or(self.started.get(), |s| s.last_heard).elapsed().as_millis() as u64,
                    applied: seen.and_then(|s| s.applied.clone()),
                    os: seen.and_then(|s| s.os.clone()),
                    provisioned: runtime.provisioned(&node),
                    reset_done: seen.and_then(|s| s.reset_done),
                },
            );
        }
        observed
    }

    /// What `node`'s agent last said its Kubernetes runs, and how long ago it was heard.
    pub fn runtime(&self, node: &Token) -> Option<(RuntimeReport, std::time::Duration)> {
        let agents = self.agents.borrow();
        let seen = agents.get(node)?;
        Some((seen.runtime.clone()?, seen.last_heard.elapsed()))
    }

    /// Forgets what `node`'s agent said its Kubernetes runs (it is unreachable and was taken out; back, it says again).
    pub fn forget_runtime(&self, node: &Token) {
        if let Some(seen) = self.agents.borrow_mut().get_mut(node) {
            seen.runtime = None;
        }
    }

    /// Every agent heard, as the cluster-join planner sees it: its address, the cluster whose server it runs, and
    /// whether it was heard within `live_within`.
    pub fn members_seen(&self, live_within: std::time::Duration) -> BTreeMap<Token, MemberSeen> {
        self.agents
            .borrow()
            .iter()
            .map(|(node, seen)| {
                let serves = seen
                    .runtime
                    .as_ref()
                    .and_then(|r| r.installed.as_ref())
                    .filter(|i| i.role == events::node::NodeRole::ControlPlane)
                    .map(|i| i.cluster.clone());
                let member = MemberSeen {
                    address: seen.address,
                    serves,
                    live: seen.last_heard.elapsed() < live_within,
                };
                (node.clone(), member)
            })
            .collect()
    }

    /// Per node, milliseconds since it was last heard (for the beacon).
    pub fn heartbeat_ages_ms(&self) -> BTreeMap<String, u64> {
        self.agents
            .borrow()
            .iter()
            .map(|(node, seen)| (node.to_string(), seen.last_heard.elapsed().as_millis() as u64))
            .collect()
    }
}
