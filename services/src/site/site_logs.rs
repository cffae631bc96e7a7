//! The site process's own log lines, stored once a second in its telemetry stream on `ef.tel.<site>.site.logs`
//! (node id `site` is reserved for it), beside its agents' — so they reach the hub with the rest, and are there to
//! read at the site while the hub is unreachable.

use crate::agent_protocol::SITE_PROCESS_NODE;
use crate::log_shipper::LogShipper;
use events::subject::{telemetry_subject, TelemetryChannel};
use events::Token;
use std::time::Duration;

/// Stores the site process's log lines until aborted.
pub async fn ship(mut shipper: LogShipper, js: async_nats::jetstream::Context, site: Token) {
    let Ok(node) = Token::new(SITE_PROCESS_NODE) else {
        return;
    };
    let subject = telemetry_subject(&site, &node, TelemetryChannel::Logs);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        while let Some((id, bytes)) = shipper.batch() {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(
                async_nats::header::NATS_MESSAGE_ID,
                format!("{SITE_PROCESS_NODE}-{id}").as_str(),
            );
            let stored = match js.publish_with_headers(subject.clone(), headers, bytes.into()).await {
                Ok(ack) => matches!(tokio::time::timeout(Duration::from_secs(5), ack).await, Ok(Ok(_))),
                Err(_) => false,
            };
            if !stored {
                break; // the batch waits for the next tick
            }
            shipper.stored();
        }
    }
}
