//! Helpers shared by the nats-process integration tests.

// Each test file compiles this module on its own and uses only some of it.
#![allow(dead_code)]

pub mod test_ca;

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

/// The first line a raw TCP connection to `client_url` (`nats://host:port`) reads: the server's
/// `INFO {…}`, sent in clear text even when the port speaks TLS, as JSON.
pub async fn raw_info(client_url: &str) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
    use tokio::io::AsyncBufReadExt as _;
    let address = client_url.trim_start_matches("nats://");
    let stream = tokio::net::TcpStream::connect(address).await?;
    let mut line = String::new();
    tokio::io::BufReader::new(stream).read_line(&mut line).await?;
    let json = line
        .strip_prefix("INFO ")
        .ok_or_else(|| format!("the server greeted with {line:?}, not INFO"))?;
    Ok(serde_json::from_str(json.trim_end())?)
}
