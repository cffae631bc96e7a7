//! Calling the hub API from the CLI: typed requests in, typed views out, on `ef.api.v1.<endpoint>` — the same
//! types the hub answers with (`crate::api_types`).

use crate::api_types::error::ErrorBody;
use crate::api_types::{endpoint_subject, ApiError};
use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;

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

    /// Calls `endpoint` with `request`; an API error comes back as an [`ApiError`].
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        endpoint: &str,
        request: &Req,
    ) -> anyhow::Result<Resp> {
        let subject = endpoint_subject(endpoint);
        let payload = serde_json::to_vec(request)?;
        let reply = tokio::time::timeout(
            Duration::from_secs(15),
            self.client.request(subject.clone(), payload.into()),
        )
        .await
        .with_context(|| format!("{subject}: the hub did not answer within 15 s"))?
        .with_context(|| format!("{subject}: no answer; is `edgefleet hub` running?"))?;
        if let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(&reply.payload) {
            return Err(error.into());
        }
        serde_json::from_slice(&reply.payload).with_context(|| format!("{subject}: unexpected reply"))
    }

    /// Maps a command's result to the exit code: refused → message on stderr, exit 1.
    pub fn finish(&self, result: anyhow::Result<()>) -> anyhow::Result<ExitCode> {
        match result {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(e) => match e.downcast_ref::<ApiError>() {
                Some(refused) => {
                    eprintln!("error: {refused}");
                    Ok(ExitCode::from(1))
                }
                None => Err(e),
            },
        }
    }
}
