//! How an agent talks to its site's nats-server: once with the site's join token, to exchange it for the node's
//! own identity; from then on as the node (its nkey), over TLS from the site's CA. The server lets the node
//! publish only its own node's subjects and receive replies only on its own inbox prefix.

use super::node_identity::NodeIdentity;
use crate::agent_protocol::{JoinReply, JoinRequest};
use anyhow::Context;
use events::Token;
use fleet_trust::{join_subject, node_inbox_prefix, JOIN_INBOX_PREFIX, JOIN_USER};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Where the site's nats-server is and how to trust it.
#[derive(Clone, Debug)]
pub struct SiteServer {
    /// Its URL.
    pub url: String,
    /// The CA that issued its certificate (`None`: plain TCP, which an edgefleet site does not offer).
    pub ca: Option<PathBuf>,
    /// Check its certificate for this name whatever address `url` names (a site server found on the LAN:
    /// `fleet_trust::site_server_name`); `None`: for the URL's host.
    pub tls_name: Option<String>,
}

/// A connection as the node, and whether the site revoked the node's identity.
pub struct NodeSession {
    /// The connection.
    pub client: async_nats::Client,
    revoked: Arc<AtomicBool>,
}

impl NodeSession {
    /// True once the server refused the node's identity (a reset revoked it): the agent joins again.
    pub fn revoked(&self) -> bool {
        self.revoked.load(Ordering::Relaxed)
    }
}

impl SiteServer {
    /// The site's servers: `url` may list several, separated by commas.
    fn servers(&self) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(|url| {
                url.parse::<async_nats::ServerAddr>()
                    .map_err(|e| anyhow::anyhow!("the site's server {url:?}: {e}"))
            })
            .collect()
    }

    fn options(&self, name: &str) -> anyhow::Result<async_nats::ConnectOptions> {
        // A site server that loses power sends no FIN: with async-nats's default ping every minute the agent kept
        // a dead connection (and the site heard nothing from it) for minutes. Pinging every 2 s, the agent moves to
        // another of the site's servers within seconds.
        let options = async_nats::ConnectOptions::new()
            .name(name)
            .connection_timeout(Duration::from_secs(5))
            .ping_interval(Duration::from_secs(2));
        Ok(match (&self.ca, &self.tls_name) {
            (Some(ca), Some(pinned)) => options
                .tls_client_config(super::pinned_server_name::client_config(ca, pinned)?)
                .require_tls(true),
            (Some(ca), None) => options.add_root_certificates(ca.clone()).require_tls(true),
            (None, _) => options,
        })
    }

    /// Exchanges `token` for `identity`: asks the site to let the node in with its public key. Returns the site id.
    pub async fn join(&self, token: &str, node: &Token, identity: &NodeIdentity) -> anyhow::Result<String> {
        let client = self
            .options(&format!("edgefleet-agent-{node}-join"))?
            .user_and_password(JOIN_USER.into(), token.into())
            .custom_inbox_prefix(JOIN_INBOX_PREFIX)
            .connect(self.servers()?)
            .await
            .map_err(|e| match e.kind() {
                async_nats::ConnectErrorKind::AuthorizationViolation => {
                    anyhow::anyhow!("the site refused the join token (revoked, or of another site)")
                }
                _ => anyhow::anyhow!("cannot reach the site's nats-server at {}: {e}", self.url),
            })?;
        let site = site_of(&client).await?;
        let site_token = Token::new(site.clone()).context("the site's JetStream domain is not a site id")?;
        let request = JoinRequest {
            node_id: node.clone(),
            public_key: identity.public_key(),
        };
        let reply = tokio::time::timeout(
            Duration::from_secs(15),
            client.request(join_subject(&site_token), serde_json::to_vec(&request)?.into()),
        )
        .await
        .context("the site did not answer the join within 15 s")?
        .context("the site did not answer the join")?;
        let reply: JoinReply = serde_json::from_slice(&reply.payload).context("malformed join reply")?;
        match (reply.accepted, reply.error) {
            (true, _) => Ok(site),
            (false, error) => anyhow::bail!(
                "the site refused the join: {}",
                error.as_deref().unwrap_or("no reason given")
            ),
        }
    }

    /// Connects as the node (retrying while the server is away); the session notes when the server refuses the
    /// identity.
    pub async fn connect_as(&self, node: &Token, identity: &NodeIdentity) -> anyhow::Result<(NodeSession, String)> {
        let revoked = Arc::new(AtomicBool::new(false));
        let flag = revoked.clone();
        let options = self
            .options(&format!("edgefleet-agent-{node}"))?
            .nkey(identity.seed())
            .custom_inbox_prefix(node_inbox_prefix(node))
            .event_callback(move |event| {
                let flag = flag.clone();
                async move {
                    if let async_nats::Event::ServerError(async_nats::ServerError::AuthorizationViolation) = event {
                        flag.store(true, Ordering::Relaxed);
                    }
                }
            });
        let client = match options.connect(self.servers()?).await {
            Ok(client) => client,
            Err(e) if e.kind() == async_nats::ConnectErrorKind::AuthorizationViolation => {
                revoked.store(true, Ordering::Relaxed);
                anyhow::bail!(IdentityRefused);
            }
            Err(e) => anyhow::bail!("cannot reach the site's nats-server at {}: {e}", self.url),
        };
        let site = site_of(&client).await?;
        Ok((NodeSession { client, revoked }, site))
    }
}

/// The site's nats-server refused the node's identity.
#[derive(Debug, thiserror::Error)]
#[error("the site refused the node's identity (revoked by a reset)")]
pub struct IdentityRefused;

/// The site id: the JetStream domain of the site's nats-server.
async fn site_of(client: &async_nats::Client) -> anyhow::Result<String> {
    let js = async_nats::jetstream::new(client.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match js.query_account().await {
            Ok(account) => {
                return account
                    .domain
                    .context("the site's nats-server has no JetStream domain; is it an edgefleet site?")
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "site nats-server not ready");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => anyhow::bail!("cannot ask the site's nats-server for its domain: {e}"),
        }
    }
}
