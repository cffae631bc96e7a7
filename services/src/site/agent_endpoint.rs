//! Serves node agents on the site's own nats-server: joins (the join token exchanged for the node's own identity),
//! registrations and heartbeats. A join and a registration are writes (through the node's actor); a heartbeat is
//! an observation. The server lets a node's identity publish only its own node's subjects, so a request speaks for
//! the node its subject names, and a body naming another node is refused. Replies are read from the projection: the membership
//! the node should apply and the OS image it should be installing — both derived from the log, so a restarted
//! site answers exactly as before.

use super::agent_runtime::AgentRuntime;
use super::node_access::NodeAccess;
use super::observer::{AgentWord, SiteObserver};
use crate::agent_protocol::{
    every_node_subject, node_of_subject, AgentMembership, AgentReply, HeartbeatRequest, JoinReply, JoinRequest,
    OsTarget, RegisterRequest, TelemetryReply, SITE_PROCESS_NODE,
};
use crate::registries::{dispatch, Registries};
use actors::node::{Membership, NodeCommand};
use actors::plan::site_os::os_target;
use events::profile::OsImage;
use events::{AggregateRef, Token};
use futures::StreamExt;
use replay::Projection;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Largest request accepted from an agent.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Largest metric batch accepted (a node of 64 CPUs samples about a thousand series, some 15 KB framed).
const MAX_TELEMETRY_BYTES: usize = 1024 * 1024;

/// The object name of an OS image in the `ef-images` bucket.
pub fn image_object(os: &OsImage) -> String {
    format!("{}-{}", os.image, os.version)
}

/// What the endpoint works with.
pub struct AgentEndpoint {
    /// This site.
    pub site: Token,
    /// The site's actors (registrations are written there).
    pub registries: Registries,
    /// The site's projection (replies are read there).
    pub projection: Arc<Projection>,
    /// What the site observes of its agents.
    pub observer: Rc<SiteObserver>,
    /// Wakes the site planner when an agent reports something.
    pub planner: Arc<Notify>,
    /// Who the site's nats-server lets in.
    pub access: Rc<NodeAccess>,
    /// Held while a join is checked and written.
    pub joins: tokio::sync::Mutex<()>,
    /// The site's JetStream (metric batches are stored in its telemetry stream).
    pub js: async_nats::jetstream::Context,
    /// Set when each node's agent runs its Kubernetes (`--runtime k3s`): replies carry the node's assignment.
    pub agents_runtime: Option<Rc<AgentRuntime>>,
}

impl AgentEndpoint {
    async fn on_join(&self, request: JoinRequest) -> JoinReply {
        let refused = |error: String| JoinReply {
            accepted: false,
            error: Some(crate::api_types::error::sanitize(&error, 512)),
        };
        if let Err(e) = fleet_trust::check_public_key::<fleet_trust::User>(&request.public_key) {
            return refused(format!("not an nkey user public key: {e}"));
        }
        if request.node_id.as_str() == SITE_PROCESS_NODE {
            return refused(format!(
                "node id {SITE_PROCESS_NODE} is reserved for the site process's own telemetry; give the node another id"
            ));
        }
        // One join at a time: the key check below and the write must not interleave with another join's.
        let _one_join_at_a_time = self.joins.lock().await;
        let taken_by = self.projection.read(|fleet| {
            super::node_access::node_keys(fleet, &self.site)
                .into_iter()
                .find(|joined| joined.public_key == request.public_key && joined.node != request.node_id)
                .map(|joined| joined.node)
        });
        if let Some(other) = taken_by {
            return refused(format!(
                "that key is node {other}'s identity; every node joins with a key of its own"
            ));
        }
        let node = AggregateRef::node(&self.site, &request.node_id);
        let by = format!("join:{}", request.node_id);
        // A node being reset, already out of its cluster, that joins with a new key has wiped its identity: that
        // completes the reset (it could not confirm otherwise, having no identity left to connect with).
        let reset_pending = self.projection.read(|fleet| {
            fleet.node(&self.site, &request.node_id).is_some_and(|n| {
                n.spec.reset_generation > n.status.observed_generation
                    && n.status.membership.is_none()
                    && n.status.identity.as_ref().is_some_and(|key| *key != request.public_key)
            })
        });
        if reset_pending {
            if let Err(e) = dispatch(&self.registries.nodes, node.clone(), NodeCommand::CompleteReset, &by).await {
                return refused(e.to_string());
            }
        }
        let joined = fleet_trust::JoinedNode {
            node: request.node_id.clone(),
            public_key: request.public_key.clone(),
        };
        let command = NodeCommand::IssueIdentity(request.public_key);
        match dispatch(&self.registries.nodes, node, command, &by).await {
            Ok(done) => {
                self.projection.wait_for(&done.positions, Duration::from_secs(2)).await;
            }
            Err(e) => return refused(e.to_string()),
        }
        match self.access.sync_including(joined).await {
            Ok(()) => {
                tracing::info!(node = %request.node_id, "node joined with its own identity");
                JoinReply {
                    accepted: true,
                    error: None,
                }
            }
            Err(e) => refused(format!("{e:#}")),
        }
    }

    async fn on_register(&self, request: RegisterRequest) -> AgentReply {
        let node = AggregateRef::node(&self.site, &request.node_id);
        let by = format!("agent:{}", request.node_id);
        match dispatch(
            &self.registries.nodes,
            node,
            NodeCommand::Register(request.inventory),
            &by,
        )
        .await
        {
            Ok(done) => {
                self.projection.wait_for(&done.positions, Duration::from_secs(2)).await;
            }
            Err(e) => return refused(e.to_string()),
        }
        self.observer.heard(&request.node_id, AgentWord::default());
        self.planner.notify_one();
        self.reply(&request.node_id)
    }

    fn on_heartbeat(&self, request: HeartbeatRequest) -> AgentReply {
        let applied = request.applied.map(|m| Membership {
            cluster: m.cluster,
            role: m.role,
        });
        let word = AgentWord {
            applied,
            os: request.os,
            reset_done: request.reset_done,
            address: request.address,
            runtime: request.runtime,
        };
        self.observer.heard(&request.node_id, word);
        self.planner.notify_one();
        self.reply(&request.node_id)
    }

    fn reply(&self, node: &Token) -> AgentReply {
        self.projection.read(|fleet| {
            let Some(state) = fleet.node(&self.site, node).filter(|n| n.status.inventory.is_some()) else {
                return AgentReply::default(); // unknown: the agent registers again
            };
            AgentReply {
                known: true,
                membership: state.status.membership.as_ref().map(|m| AgentMembership {
                    cluster: m.cluster.clone(),
                    role: m.role,
                }),
                lifecycle: Some(state.lifecycle()),
                error: state.status.failure.clone(),
                os_target: os_target(fleet, &self.site, node).map(|os| OsTarget {
                    object: image_object(&os),
                    version: os.version,
                    sha256: os.sha256,
                }),
                reset: (state.spec.reset_generation > state.status.observed_generation)
                    .then_some(state.spec.reset_generation),
                runtime: self
                    .agents_runtime
                    .as_ref()
                    .and_then(|runtime| runtime.assignment(fleet, &self.site, node)),
            }
        })
    }
}

/// Answers agents until the connection closes.
pub async fn serve(endpoint: Rc<AgentEndpoint>, client: async_nats::Client) {
    let site = endpoint.site.to_string();
    let (Ok(mut register), Ok(mut heartbeat), Ok(mut join), Ok(mut telemetry), Ok(mut logs)) = (
        client.subscribe(every_node_subject(&site, "register")).await,
        client.subscribe(every_node_subject(&site, "heartbeat")).await,
        client.subscribe(fleet_trust::join_subject(&endpoint.site)).await,
        client.subscribe(every_node_subject(&site, "telemetry")).await,
        client.subscribe(every_node_subject(&site, "logs")).await,
    ) else {
        return tracing::error!(%site, "cannot subscribe to agent subjects");
    };
    loop {
        let (message, kind) = tokio::select! {
            Some(m) = register.next() => (m, Kind::Register),
            Some(m) = heartbeat.next() => (m, Kind::Heartbeat),
            Some(m) = join.next() => (m, Kind::Join),
            Some(m) = telemetry.next() => (m, Kind::Telemetry),
            Some(m) = logs.next() => (m, Kind::Logs),
            else => return,
        };
        let Some(reply_to) = message.reply.clone() else {
            continue;
        };
        if matches!(kind, Kind::Telemetry | Kind::Logs) {
            let reply = endpoint.on_telemetry(kind, &message).await;
            if let Err(e) = client
                .publish(reply_to, serde_json::to_vec(&reply).unwrap_or_default().into())
                .await
            {
                tracing::warn!(error = %e, "agent reply not sent");
            }
            continue;
        }
        let payload = if message.payload.len() > MAX_REQUEST_BYTES {
            let error = format!("request of {} bytes exceeds {MAX_REQUEST_BYTES}", message.payload.len());
            match kind {
                Kind::Join => serde_json::to_vec(&JoinReply {
                    accepted: false,
                    error: Some(error),
                }),
                _ => serde_json::to_vec(&refused(error)),
            }
        } else {
            match kind {
                Kind::Join => {
                    let reply = match serde_json::from_slice::<JoinRequest>(&message.payload) {
                        Ok(request) => endpoint.on_join(request).await,
                        Err(e) => JoinReply {
                            accepted: false,
                            error: Some(crate::api_types::error::sanitize(
                                &format!("malformed join request: {e}"),
                                512,
                            )),
                        },
                    };
                    serde_json::to_vec(&reply)
                }
                Kind::Register | Kind::Heartbeat | Kind::Telemetry | Kind::Logs => serde_json::to_vec(
                    &endpoint
                        .on_node_request(kind, message.subject.as_str(), &message.payload)
                        .await,
                ),
            }
        };
        if let Err(e) = client.publish(reply_to, payload.unwrap_or_default().into()).await {
            tracing::warn!(error = %e, "agent reply not sent");
        }
    }
}

/// Which agent request arrived.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Join,
    Register,
    Heartbeat,
    Telemetry,
    Logs,
}

impl AgentEndpoint {
    /// A register or heartbeat on `subject`: refused unless its body speaks for the node the subject names.
    async fn on_node_request(&self, kind: Kind, subject: &str, payload: &[u8]) -> AgentReply {
        let Some(subject_node) = node_of_subject(subject) else {
            return refused(format!("no node in the subject {subject}"));
        };
        if subject_node.as_str() == SITE_PROCESS_NODE {
            return refused(format!(
                "node id {SITE_PROCESS_NODE} is reserved for the site process's own telemetry"
            ));
        }
        let mismatch = |body: &Token| {
            refused(format!(
                "the request names node {body} but was sent as node {subject_node}: a node speaks only for itself"
            ))
        };
        match kind {
            Kind::Register => match serde_json::from_slice::<RegisterRequest>(payload) {
                Ok(request) if request.node_id != subject_node => mismatch(&request.node_id),
                Ok(request) => self.on_register(request).await,
                Err(e) => refused(format!("malformed register request: {e}")),
            },
            _ => match serde_json::from_slice::<HeartbeatRequest>(payload) {
                Ok(request) if request.node_id != subject_node => mismatch(&request.node_id),
                Ok(request) => self.on_heartbeat(request),
                Err(e) => refused(format!("malformed heartbeat: {e}")),
            },
        }
    }
}

impl AgentEndpoint {
    /// A metric batch or a log batch from the node its subject names: checked (it must decode as one) and stored in
    /// the site's telemetry stream under that node. A resend of a batch already stored (a metric batch of the same
    /// node and instant; a log batch with the same `Nats-Msg-Id`) is stored once.
    async fn on_telemetry(&self, kind: Kind, message: &async_nats::Message) -> TelemetryReply {
        let (subject, payload) = (message.subject.as_str(), &message.payload[..]);
        let refused = |error: String| TelemetryReply {
            stored: false,
            error: Some(crate::api_types::error::sanitize(&error, 512)),
            retry: false,
        };
        let not_now = |error: String| TelemetryReply {
            retry: true,
            ..refused(error)
        };
        let Some(node) = node_of_subject(subject) else {
            return refused(format!("no node in the subject {subject}"));
        };
        if node.as_str() == SITE_PROCESS_NODE {
            return refused(format!(
                "node id {SITE_PROCESS_NODE} is reserved for the site process's own telemetry"
            ));
        }
        if payload.len() > MAX_TELEMETRY_BYTES {
            return refused(format!(
                "batch of {} bytes exceeds {MAX_TELEMETRY_BYTES}",
                payload.len()
            ));
        }
        let (channel, msg_id) = if kind == Kind::Logs {
            if let Err(e) = telemetry::LogBatch::decode(payload) {
                return refused(format!("not a log batch: {e}"));
            }
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
                .map(|v| v.as_str().to_string())
                .filter(|id| id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
            let Some(id) = id else {
                return refused("a log batch needs a Nats-Msg-Id of up to 64 letters, digits and '-'".to_string());
            };
            (events::subject::TelemetryChannel::Logs, format!("{node}-{id}"))
        } else {
            match telemetry::MetricBatch::decode(payload) {
                Ok(batch) => (
                    events::subject::TelemetryChannel::Metrics,
                    format!("{node}-{}", batch.at_ms),
                ),
                Err(e) => return refused(format!("not a metric batch: {e}")),
            }
        };
        let subject = events::subject::telemetry_subject(&self.site, &node, channel);
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, msg_id.as_str());
        let stored = match self
            .js
            .publish_with_headers(subject, headers, bytes::Bytes::copy_from_slice(payload))
            .await
        {
            Ok(ack) => tokio::time::timeout(Duration::from_secs(5), ack).await,
            Err(e) => return not_now(format!("the site's telemetry stream did not take it: {e}")),
        };
        match stored {
            Ok(Ok(_)) => TelemetryReply {
                stored: true,
                error: None,
                retry: false,
            },
            Ok(Err(e)) => not_now(format!("the site's telemetry stream did not take it: {e}")),
            Err(_) => not_now("the site's telemetry stream did not answer within 5 s".to_string()),
        }
    }
}

fn refused(error: String) -> AgentReply {
    AgentReply {
        known: true,
        error: Some(crate::api_types::error::sanitize(&error, 512)),
        ..AgentReply::default()
    }
}
