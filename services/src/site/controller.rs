//! The site controller: registers nodes, forms and changes clusters, tracks liveness, and acts on the hub's
//! intents — all through the site's own actors and log, so it keeps working with no hub.

use super::cluster_runtime::{ClusterRuntime, NodePlan};
use crate::agent_protocol::{AgentMembership, AgentOs, AgentReply, OsTarget};
use crate::registries::{dispatch, query, Registries};
use actors::cluster::{ClusterCommand, ClusterState};
use actors::node::{Membership, NodeCommand, NodeState};
use actors::site::SiteCommand;
use actors::site_reconcile::{next_node_step, NodeReality, NodeStep, SiteImage};
use actors::ExecuteError;
use events::cluster::ClusterEvent;
use events::node::{Inventory, NodeRole};
use events::{AggregateRef, Hlc, Payload, Token};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Steps run per reconcile before yielding (a node needs at most leave → join → provision → ready).
const MAX_STEPS_PER_RECONCILE: usize = 6;

/// What the controller last heard from a node agent (in memory: liveness is not history).
#[derive(Clone, Debug)]
struct AgentSeen {
    last_heartbeat: Instant,
    last_heartbeat_hlc: Hlc,
    applied: Option<Membership>,
    silent: bool,
}

/// One site's controller, provisioning through the runtime `R`.
pub struct SiteController<R: ClusterRuntime> {
    pub(super) site: Token,
    pub(super) registries: Registries,
    image: Option<SiteImage>,
    silent_after: Duration,
    agents: RefCell<HashMap<Token, AgentSeen>>,
    pub(super) runtime: R,
    /// OS image each node should run now (handed to its agent with every heartbeat reply).
    pub(super) os_targets: RefCell<HashMap<Token, OsTarget>>,
    /// Rollouts whose plan has reached this site (ids of `rollout/all/<id>`).
    pub(super) rollouts: RefCell<std::collections::BTreeSet<Token>>,
}

impl<R: ClusterRuntime> SiteController<R> {
    /// A controller for `site` deciding through `registries` and provisioning through `runtime`.
    pub fn new(
        site: Token,
        registries: Registries,
        image: Option<SiteImage>,
        silent_after: Duration,
        runtime: R,
    ) -> Self {
        Self {
            site,
            registries,
            image,
            silent_after,
            agents: RefCell::new(HashMap::new()),
            runtime,
            os_targets: RefCell::new(HashMap::new()),
            rollouts: RefCell::new(std::collections::BTreeSet::new()),
        }
    }

    /// The site id.
    pub fn site(&self) -> &Token {
        &self.site
    }

    fn node(&self, id: &Token) -> AggregateRef {
        AggregateRef::node(&self.site, id)
    }

    /// Announces the site itself (idempotent).
    pub async fn register_site(&self, timezone: &str) -> anyhow::Result<()> {
        let register = SiteCommand::Register {
            timezone: timezone.to_string(),
            controller_version: env!("CARGO_PKG_VERSION").into(),
        };
        dispatch(
            &self.registries.sites,
            AggregateRef::site(&self.site),
            register,
            "controller",
        )
        .await?;
        Ok(())
    }

    /// A node agent registered.
    pub async fn on_register(&self, node_id: &Token, inventory: Inventory) -> AgentReply {
        let by = format!("agent:{node_id}");
        if let Err(e) = dispatch(
            &self.registries.nodes,
            self.node(node_id),
            NodeCommand::Register(inventory),
            &by,
        )
        .await
        {
            return AgentReply {
                error: Some(e.to_string()),
                ..AgentReply::default()
            };
        }
        self.seen(node_id, None);
        self.reconcile(node_id).await;
        self.reply(node_id).await
    }

    /// A node agent heartbeated.
    pub async fn on_heartbeat(
        &self,
        node_id: &Token,
        applied: Option<AgentMembership>,
        os: Option<AgentOs>,
    ) -> AgentReply {
        let applied = applied.and_then(|m| {
            Token::new(m.cluster)
                .ok()
                .map(|cluster| Membership { cluster, role: m.role })
        });
        let was_silent = self.seen(node_id, applied);
        let state: NodeState = match query(&self.registries.nodes, self.node(node_id)).await {
            Ok(state) => state,
            Err(e) => {
                return AgentReply {
                    known: true,
                    error: Some(format!("{e:#}")),
                    ..AgentReply::default()
                }
            }
        };
        if state.status.inventory.is_none() {
            return AgentReply::default(); // unknown: the agent registers again
        }
        if was_silent || state.status.silent_since.is_some() {
            if let Err(e) = dispatch(
                &self.registries.nodes,
                self.node(node_id),
                NodeCommand::MarkBack,
                "controller",
            )
            .await
            {
                tracing::warn!(node = %node_id, error = %e, "could not record the node coming back");
            }
        }
        if let Some(os) = os {
            self.record_os(node_id, &state, os).await;
        }
        self.reconcile(node_id).await;
        self.reply(node_id).await
    }

    /// Records a contact; returns whether the node was silent before.
    fn seen(&self, node_id: &Token, applied: Option<Membership>) -> bool {
        let mut agents = self.agents.borrow_mut();
        let now_hlc = self.registries_clock_now();
        let entry = agents.entry(node_id.clone()).or_insert(AgentSeen {
            last_heartbeat: Instant::now(),
            last_heartbeat_hlc: now_hlc,
            applied: None,
            silent: false,
        });
        let was_silent = entry.silent;
        entry.last_heartbeat = Instant::now();
        entry.last_heartbeat_hlc = now_hlc;
        entry.silent = false;
        if applied.is_some() {
            entry.applied = applied;
        }
        was_silent
    }

    fn registries_clock_now(&self) -> Hlc {
        Hlc {
            physical_ms: actors::process_clock::system_wall_ms(),
            logical: 0,
        }
    }

    async fn reply(&self, node_id: &Token) -> AgentReply {
        match query::<NodeState>(&self.registries.nodes, self.node(node_id)).await {
            Ok(state) => AgentReply {
                known: state.status.inventory.is_some(),
                membership: state.status.membership.as_ref().map(|m| AgentMembership {
                    cluster: m.cluster.to_string(),
                    role: m.role,
                }),
                lifecycle: format!("{:?}", state.lifecycle()),
                error: state.status.failure.clone(),
                os_target: self.os_targets.borrow().get(node_id).cloned(),
            },
            Err(e) => AgentReply {
                known: true,
                error: Some(format!("{e:#}")),
                ..AgentReply::default()
            },
        }
    }

    /// Marks nodes silent whose heartbeats stopped; returns how many went silent now.
    pub async fn check_silence(&self) -> usize {
        let newly_silent: Vec<(Token, Hlc)> = {
            let mut agents = self.agents.borrow_mut();
            agents
                .iter_mut()
                .filter(|(_, seen)| !seen.silent && seen.last_heartbeat.elapsed() >= self.silent_after)
                .map(|(node, seen)| {
                    seen.silent = true;
                    (node.clone(), seen.last_heartbeat_hlc)
                })
                .collect()
        };
        for (node, last_seen) in &newly_silent {
            let silent = NodeCommand::MarkSilent { last_seen: *last_seen };
            if let Err(e) = dispatch(&self.registries.nodes, self.node(node), silent, "controller").await {
                tracing::warn!(%node, error = %e, "could not record silence");
            }
        }
        newly_silent.len()
    }

    /// Runs the node's next steps until it is idle.
    pub async fn reconcile(&self, node_id: &Token) {
        for _ in 0..MAX_STEPS_PER_RECONCILE {
            let state: NodeState = match query(&self.registries.nodes, self.node(node_id)).await {
                Ok(state) => state,
                Err(e) => return tracing::warn!(node = %node_id, error = %e, "reconcile: node unreadable"),
            };
            let reality = NodeReality {
                agent_applied: self.agents.borrow().get(node_id).and_then(|seen| seen.applied.clone()),
                runtime_provisioned: self
                    .runtime
                    .provisioned(node_id)
                    .map(|(cluster, role)| Membership { cluster, role }),
            };
            let step = next_node_step(&state, self.image.as_ref(), &reality);
            if step == NodeStep::Idle {
                return;
            }
            tracing::debug!(node = %node_id, ?step, "reconcile");
            if let Err(e) = self.execute(node_id, &step).await {
                tracing::warn!(node = %node_id, ?step, error = %e, "reconcile step failed");
                return;
            }
        }
    }

    async fn execute(&self, node_id: &Token, step: &NodeStep) -> Result<(), ExecuteError> {
        let node = self.node(node_id);
        let nodes = &self.registries.nodes;
        match step {
            NodeStep::Idle => Ok(()),
            NodeStep::Join { cluster, role } => self.join(node_id, cluster, *role).await,
            NodeStep::Leave { cluster } => {
                self.leave_cluster(node_id, cluster).await?;
                self.uninstall(node_id).await;
                dispatch(nodes, node, NodeCommand::Leave, "controller")
                    .await
                    .map(|_| ())
            }
            NodeStep::Reset { cluster } => {
                if let Some(cluster) = cluster {
                    self.leave_cluster(node_id, cluster).await?;
                }
                self.uninstall(node_id).await;
                dispatch(nodes, node, NodeCommand::CompleteReset, "controller")
                    .await
                    .map(|_| ())
            }
            NodeStep::Provision => {
                dispatch(nodes, node.clone(), NodeCommand::ReportProvisioning, "controller").await?;
                if let Err(reason) = self.provision(node_id).await {
                    dispatch(nodes, node, NodeCommand::ReportFailed(reason), "controller").await?;
                }
                Ok(())
            }
            NodeStep::Ready => {
                dispatch(nodes, node, NodeCommand::ReportReady, "controller").await?;
                self.cluster_ready_check(node_id).await
            }
        }
    }

    async fn uninstall(&self, node_id: &Token) {
        if let Err(e) = self.runtime.remove(node_id).await {
            tracing::warn!(node = %node_id, error = %e, "runtime could not remove the node");
        }
    }

    /// Provisions the node's membership through the runtime; the error is the node's failure reason.
    async fn provision(&self, node_id: &Token) -> Result<(), String> {
        let node: NodeState = query(&self.registries.nodes, self.node(node_id))
            .await
            .map_err(|e| format!("{e:#}"))?;
        let membership = node.status.membership.ok_or("the node is in no cluster")?;
        let cluster_ref = AggregateRef::cluster(&self.site, &membership.cluster);
        let cluster: ClusterState = query(&self.registries.clusters, cluster_ref)
            .await
            .map_err(|e| format!("{e:#}"))?;
        let profile = cluster
            .spec
            .profile
            .or(cluster.status.running_profile)
            .ok_or_else(|| format!("cluster {} has no profile", membership.cluster))?;
        let profile_state: actors::profile::ProfileState =
            query(&self.registries.profiles, AggregateRef::profile(&profile.name))
                .await
                .map_err(|e| format!("{e:#}"))?;
        let plan = NodePlan {
            cluster: &membership.cluster,
            node: node_id,
            role: membership.role,
            profile: &profile,
            layers: profile_state.versions.get(&profile.version),
        };
        self.runtime.provision(&plan).await.map_err(|e| e.to_string())
    }

    async fn join(&self, node_id: &Token, cluster: &Token, role: Option<NodeRole>) -> Result<(), ExecuteError> {
        let cluster_ref = AggregateRef::cluster(&self.site, cluster);
        let image_profile = self
            .image
            .as_ref()
            .filter(|i| &i.cluster == cluster)
            .map(|i| i.profile.clone());
        let join = ClusterCommand::Join {
            node: node_id.clone(),
            role,
            site_image_profile: image_profile,
        };
        let joined = match dispatch(&self.registries.clusters, cluster_ref, join, "controller").await {
            Ok(joined) => joined,
            Err(ExecuteError::Rejected(why)) => {
                let failed = NodeCommand::ReportFailed(format!("cannot join cluster {cluster}: {why}"));
                return dispatch(&self.registries.nodes, self.node(node_id), failed, "controller")
                    .await
                    .map(|_| ());
            }
            Err(e) => return Err(e),
        };
        let role = joined
            .state
            .status
            .members
            .get(node_id)
            .copied()
            .or(role)
            .unwrap_or(NodeRole::Worker);
        let node_join = NodeCommand::Join {
            cluster: cluster.clone(),
            role,
        };
        dispatch(&self.registries.nodes, self.node(node_id), node_join, "controller").await?;
        self.promote(&joined.events).await
    }

    async fn leave_cluster(&self, node_id: &Token, cluster: &Token) -> Result<(), ExecuteError> {
        let cluster_ref = AggregateRef::cluster(&self.site, cluster);
        let left = dispatch(
            &self.registries.clusters,
            cluster_ref,
            ClusterCommand::Leave(node_id.clone()),
            "controller",
        )
        .await?;
        self.promote(&left.events).await?;
        // The last member of a deleted cluster has left: the cluster is gone.
        if left.state.spec.deleted && left.state.status.members.is_empty() {
            let cluster_ref = AggregateRef::cluster(&self.site, cluster);
            dispatch(
                &self.registries.clusters,
                cluster_ref,
                ClusterCommand::ConfirmRemoved,
                "controller",
            )
            .await?;
        }
        Ok(())
    }

    /// Carries the cluster's promotions over to the promoted nodes.
    async fn promote(&self, cluster_events: &[events::Envelope]) -> Result<(), ExecuteError> {
        for envelope in cluster_events {
            if let Payload::Cluster(ClusterEvent::MemberPromoted { node }) = &envelope.payload {
                dispatch(
                    &self.registries.nodes,
                    self.node(node),
                    NodeCommand::Promote,
                    "controller",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Reports the node's cluster ready once every member is ready.
    async fn cluster_ready_check(&self, node_id: &Token) -> Result<(), ExecuteError> {
        let Ok(node) = query::<NodeState>(&self.registries.nodes, self.node(node_id)).await else {
            return Ok(());
        };
        let Some(membership) = node.status.membership else {
            return Ok(());
        };
        let cluster_ref = AggregateRef::cluster(&self.site, &membership.cluster);
        let Ok(cluster) = query::<ClusterState>(&self.registries.clusters, cluster_ref.clone()).await else {
            return Ok(());
        };
        for member in cluster.status.members.keys() {
            match query::<NodeState>(&self.registries.nodes, self.node(member)).await {
                Ok(m) if m.status.phase == actors::node::NodePhase::Ready => {}
                _ => return Ok(()),
            }
        }
        dispatch(
            &self.registries.clusters,
            cluster_ref,
            ClusterCommand::ReportReady,
            "controller",
        )
        .await
        .map(|_| ())
    }

    /// Every node an agent has contacted this controller about.
    pub fn known_nodes(&self) -> Vec<Token> {
        self.agents.borrow().keys().cloned().collect()
    }

    /// Per node, milliseconds since its last heartbeat.
    pub fn heartbeat_ages_ms(&self) -> std::collections::BTreeMap<String, u64> {
        let agents = self.agents.borrow();
        agents
            .iter()
            .map(|(node, seen)| (node.to_string(), seen.last_heartbeat.elapsed().as_millis() as u64))
            .collect()
    }
}
