//! Calling the hub API from the CLI: JSON request/reply on `ef.api.v1.<endpoint>`.

use anyhow::Context;
use serde_json::Value;
use std::process::ExitCode;
use std::time::Duration;

/// The hub refused a request (an API error reply).
#[derive(Debug, thiserror::Error)]
#[error("{message} ({code})")]
pub struct Refused {
    /// API error code.
    pub code: u64,
    /// API error message.
    pub message: String,
}

/// A connection to the hub API.
pub struct HubApi {
    client: async_nats::Client,
}

impl HubApi {
    /// Connects to `--hub` / `$EDGEFLEET_HUB`.
    pub async fn connect(hub: Option<&str>) -> anyhow::Result<Self> {
        let url = hub.context("no hub given: pass --hub nats://HOST:PORT or set EDGEFLEET_HUB")?;
        let client = async_nats::ConnectOptions::new()
            .name("edgefleet-cli")
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .with_context(|| format!("cannot reach the hub at {url}"))?;
        Ok(Self { client })
    }

    /// Calls `endpoint` with `body`; an API error comes back as [`Refused`].
    pub async fn call(&self, endpoint: &str, body: Value) -> anyhow::Result<Value> {
        let subject = format!("{}.{endpoint}", events::subject::API_PREFIX);
        let payload = serde_json::to_vec(&body)?;
        let reply = tokio::time::timeout(
            Duration::from_secs(15),
            self.client.request(subject.clone(), payload.into()),
        )
        .await
        .with_context(|| format!("{subject}: the hub did not answer within 15 s"))?
        .with_context(|| format!("{subject}: no answer; is `edgefleet hub` running?"))?;
        let value: Value =
            serde_json::from_slice(&reply.payload).with_context(|| format!("{subject}: the reply is not JSON"))?;
        if let Some(error) = value.get("error") {
            return Err(Refused {
                code: error["code"].as_u64().unwrap_or(0),
                message: error["message"].as_str().unwrap_or("unknown error").to_string(),
            }
            .into());
        }
        Ok(value)
    }

    /// Maps a command's result to the exit code: refused → message on stderr, exit 1.
    pub fn finish(&self, result: anyhow::Result<()>) -> anyhow::Result<ExitCode> {
        match result {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => match e.downcast_ref::<Refused>() {
                Some(refused) => {
                    eprintln!("error: {refused}");
                    Ok(ExitCode::from(1))
                }
                None => Err(e),
            },
        }
    }
}
