//! Serves node agents' register and heartbeat requests on the site's own nats-server.

use super::cluster_runtime::ClusterRuntime;
use super::controller::SiteController;
use crate::agent_protocol::{heartbeat_subject, register_subject, AgentReply, HeartbeatRequest, RegisterRequest};
use events::Token;
use futures::StreamExt;
use std::rc::Rc;

/// Largest request accepted from an agent.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Answers agents until the connection closes.
pub async fn serve<R: ClusterRuntime>(controller: Rc<SiteController<R>>, client: async_nats::Client) {
    let site = controller.site().to_string();
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
                Ok(request) => match Token::new(request.node_id.clone()) {
                    Ok(node) => controller.on_register(&node, request.inventory).await,
                    Err(e) => refused(format!("node_id: {e}")),
                },
                Err(e) => refused(format!("malformed register request: {e}")),
            }
        } else {
            match serde_json::from_slice::<HeartbeatRequest>(&message.payload) {
                Ok(request) => match Token::new(request.node_id.clone()) {
                    Ok(node) => controller.on_heartbeat(&node, request.applied, request.os).await,
                    Err(e) => refused(format!("node_id: {e}")),
                },
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
        error: Some(error),
        ..AgentReply::default()
    }
}
