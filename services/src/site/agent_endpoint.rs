//! Serves node agents' register and heartbeat requests on the site's own nats-server. A registration is a write
//! (through the node's actor); a heartbeat is an observation. Replies are read from the projection: the membership
//! the node should apply and the OS image it should be installing — both derived from the log, so a restarted
//! site answers exactly as before.

use super::observer::SiteObserver;
use crate::agent_protocol::{
    heartbeat_subject, register_subject, AgentMembership, AgentReply, HeartbeatRequest, OsTarget, RegisterRequest,
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
}

impl AgentEndpoint {
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
        self.observer.heard(&request.node_id, None, None);
        self.planner.notify_one();
        self.reply(&request.node_id)
    }

    fn on_heartbeat(&self, request: HeartbeatRequest) -> AgentReply {
        let applied = request.applied.map(|m| Membership {
            cluster: m.cluster,
            role: m.role,
        });
        self.observer.heard(&request.node_id, applied, request.os);
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
            }
        })
    }
}

/// Answers agents until the connection closes.
pub async fn serve(endpoint: Rc<AgentEndpoint>, client: async_nats::Client) {
    let site = endpoint.site.to_string();
    let (Ok(mut register), Ok(mut heartbeat)) = (
        client.subscribe(register_subject(&site)).await,
        client.subscribe(heartbeat_subject(&site)).await,
    ) else {
        return tracing::error!(%site, "cannot subscribe to agent subjects");
    };
    loop {
        let (message, is_register) = tokio::select! {
            Some(m) = register.next() => (m, true),
            Some(m) = heartbeat.next() => (m, false),
            else => return,
        };
        let Some(reply_to) = message.reply.clone() else {
            continue;
        };
        let reply = if message.payload.len() > MAX_REQUEST_BYTES {
            refused(format!(
                "request of {} bytes exceeds {MAX_REQUEST_BYTES}",
                message.payload.len()
            ))
        } else if is_register {
            match serde_json::from_slice::<RegisterRequest>(&message.payload) {
                Ok(request) => endpoint.on_register(request).await,
                Err(e) => refused(format!("malformed register request: {e}")),
            }
        } else {
            match serde_json::from_slice::<HeartbeatRequest>(&message.payload) {
                Ok(request) => endpoint.on_heartbeat(request),
                Err(e) => refused(format!("malformed heartbeat: {e}")),
            }
        };
        let payload = serde_json::to_vec(&reply).unwrap_or_default();
        if let Err(e) = client.publish(reply_to, payload.into()).await {
            tracing::warn!(error = %e, "agent reply not sent");
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
