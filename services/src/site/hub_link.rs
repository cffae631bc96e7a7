//! Watches the site's link to the hub and, each time it comes (back) up, makes the site's sourced copies (its
//! intents, the image replica) copy again at once instead of waiting out nats-server's source retry backoff, which
//! grows to tens of seconds while the hub is unreachable (`replay::resume_source`, DESIGN §7).

use events::subject;
use replay::sourcing::IMAGE_BUCKET;
use std::time::Duration;

/// How often the link is probed.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long a probe waits for the hub's JetStream to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// True if the hub's JetStream answers across the leaf link.
async fn hub_answers(client: &async_nats::Client) -> bool {
    let subject = format!("$JS.{}.API.INFO", replay::HUB_DOMAIN);
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, client.request(subject, "".into())).await,
        Ok(Ok(_))
    )
}

/// Probes the hub link until aborted; on every transition to up, resumes the site's sources.
pub async fn watch(client: async_nats::Client, js: async_nats::jetstream::Context) {
    let mut up = false;
    loop {
        let now_up = hub_answers(&client).await;
        if now_up && !up {
            tracing::info!("hub link up: resuming the site's sourced copies");
            for stream in [subject::INTENT_STREAM.to_string(), format!("OBJ_{IMAGE_BUCKET}")] {
                if let Err(e) = replay::resume_source(&js, &stream).await {
                    tracing::warn!(%stream, error = %e, "source not resumed; the server retries on its own");
                }
            }
        } else if !now_up && up {
            tracing::warn!("hub link down: the site keeps working on its own");
        }
        up = now_up;
        tokio::time::sleep(PROBE_EVERY).await;
    }
}
