//! The agent's own log lines, sent to its site once a second (a request on its own subject, as its metrics are),
//! which stores them in its telemetry stream on `ef.tel.<site>.<node>.logs`. A batch not answered waits in the
//! shipper and goes again, unchanged, on the next tick.

use crate::agent_protocol::{logs_request_subject, TelemetryReply};
use crate::log_shipper::LogShipper;
use std::time::Duration;

/// Sends the agent's log lines until dropped (`None`: the agent captures none).
pub async fn run(shipper: Option<&mut LogShipper>, client: &async_nats::Client, site: &str, node: &str) {
    let Some(shipper) = shipper else {
        return std::future::pending().await;
    };
    let subject = logs_request_subject(site, node);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        while let Some((id, bytes)) = shipper.batch() {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
            let answer = tokio::time::timeout(
                Duration::from_secs(5),
                client.request_with_headers(subject.clone(), headers, bytes.into()),
            )
            .await;
            let stored = matches!(
                answer,
                Ok(Ok(message)) if serde_json::from_slice::<TelemetryReply>(&message.payload)
                    .is_ok_and(|reply| reply.stored)
            );
            if !stored {
                break; // unreachable, or refused: the batch waits for the next tick
            }
            shipper.stored();
        }
    }
}
