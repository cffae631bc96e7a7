//! Helpers shared by the nats-process integration tests.

// Each test file compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use std::time::Duration;

use tokio::time::Instant;

/// What a test returns; `?` on a `NatsServerError` prints its log tail.
pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Asks `subject` (a JetStream `INFO` API subject) and returns the reply as JSON.
pub async fn jetstream_info(
    client: &async_nats::Client,
    subject: &str,
) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
    let reply = client.request(subject.to_owned(), "".into()).await?;
    Ok(serde_json::from_slice(&reply.payload)?)
}

/// Polls `condition` every 20 ms until it holds; panics with `what` after `timeout_ms`.
pub async fn wait_until(what: &str, timeout_ms: u64, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {timeout_ms} ms");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
