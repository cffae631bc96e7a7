//! Calling the hub API from the CLI: typed requests in, typed views out, on `ef.api.v1.<endpoint>` — the same
//! types the hub answers with (`crate::api_types`). A request the hub's server refuses by permission (a viewer
//! asking for a change) fails at once with a message naming the subject and the user, not after a timeout.

use crate::api_types::error::ErrorBody;
use crate::api_types::{endpoint_subject, ApiError};
use crate::hub_connection::HubAddress;
use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;

/// A connection to the hub API.
pub struct HubApi {
    client: async_nats::Client,
    /// Who the credentials say the user is (for messages).
    who: String,
    /// Permission violations the server reported on this connection.
    refusals: tokio::sync::broadcast::Sender<String>,
}

impl HubApi {
    /// Connects to `--hub` / `$EDGEFLEET_HUB` as the user of `--creds`.
    pub async fn connect(hub: &HubAddress) -> anyhow::Result<Self> {
        let (refusals, _) = tokio::sync::broadcast::channel(16);
        let sender = refusals.clone();
        let options = hub.options("edgefleet-cli").await?.event_callback(move |event| {
            let sender = sender.clone();
            async move {
                if let async_nats::Event::ServerError(async_nats::ServerError::Other(message)) = event {
                    if message.to_ascii_lowercase().contains("permissions violation") {
                        let _ = sender.send(message);
                    }
                }
            }
        });
        let url = hub.url()?;
        let client = options
            .connect(crate::hub_connection::server_addrs(url)?)
            .await
            .map_err(|e| crate::hub_connection::explain_connect_error(url, hub, e))?;
        let who = match hub.who()? {
            Some(who) => who.describe(),
            None => "an anonymous client".to_owned(),
        };
        Ok(Self { client, who, refusals })
    }

    /// Calls `endpoint` with `request`; an API error comes back as an [`ApiError`].
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        endpoint: &str,
        request: &Req,
    ) -> anyhow::Result<Resp> {
        let subject = endpoint_subject(endpoint);
        let payload = serde_json::to_vec(request)?;
        let mut refusals = self.refusals.subscribe();
        let refused = async {
            loop {
                match refusals.recv().await {
                    Ok(message) if message.contains(&subject) => return message,
                    Ok(_) => continue,
                    Err(_) => std::future::pending::<()>().await,
                }
            }
        };
        let asked = tokio::time::timeout(
            Duration::from_secs(15),
            self.client.request(subject.clone(), payload.into()),
        );
        let reply = tokio::select! {
            answer = asked => answer
                .with_context(|| format!("{subject}: the hub did not answer within 15 s"))?
                .with_context(|| format!("{subject}: no answer; is `edgefleet hub` running?"))?,
            message = refused => {
                return Err(ApiError::forbidden(format!(
                    "permission denied: {} may not call {endpoint} (the hub's server refused {subject}: {})",
                    self.who,
                    message.trim()
                ))
                .into());
            }
        };
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
