//! Connecting client commands to the hub named by `--hub` / `$EDGEFLEET_HUB`, as the user of `--creds` /
//! `$EDGEFLEET_CREDS`, trusting the CA of `--ca` / `$EDGEFLEET_CA`; and long-running processes to their own
//! nats-server.

use crate::credentials_name::CredentialsName;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Duration;

/// Where the hub is and who this client is there.
#[derive(Clone, Debug, Default)]
pub struct HubAddress {
    /// The hub's NATS URL.
    pub url: Option<String>,
    /// The user's `.creds` file (`None`: anonymous, which an edgefleet hub refuses).
    pub creds: Option<PathBuf>,
    /// The CA that issued the hub's certificate (`None`: no TLS).
    pub ca: Option<PathBuf>,
}

impl HubAddress {
    /// The URL, or an error saying how to give one.
    pub fn url(&self) -> anyhow::Result<&str> {
        self.url
            .as_deref()
            .context("no hub given: pass --hub nats://HOST:PORT or set EDGEFLEET_HUB")
    }

    /// Who the credentials say this client is (read from the `.creds` file, not verified: the hub verifies).
    pub fn who(&self) -> anyhow::Result<Option<CredentialsName>> {
        self.creds.as_deref().map(CredentialsName::read).transpose()
    }

    /// Connect options: credentials, TLS and, for a named user, the user's own inbox prefix (operators may
    /// receive replies only there).
    pub async fn options(&self, name: &str) -> anyhow::Result<async_nats::ConnectOptions> {
        let mut options = async_nats::ConnectOptions::new()
            .name(name)
            .connection_timeout(Duration::from_secs(5));
        if let Some(creds) = &self.creds {
            options = options
                .credentials_file(creds)
                .await
                .with_context(|| format!("reading the credentials {}", creds.display()))?;
        }
        if let Some(who) = self.who()? {
            options = options.custom_inbox_prefix(who.inbox_prefix());
        }
        if let Some(ca) = &self.ca {
            anyhow::ensure!(ca.exists(), "the CA file {} does not exist", ca.display());
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        Ok(options)
    }

    /// Connects once (no retry) to the hub, or to one of the hubs of a cluster given as a comma-separated list.
    pub async fn connect(&self, name: &str) -> anyhow::Result<async_nats::Client> {
        let url = self.url()?;
        let servers = server_addrs(url)?;
        self.options(name)
            .await?
            .connect(servers)
            .await
            .map_err(|e| explain_connect_error(url, self, e))
    }

    /// Connects and returns a JetStream context.
    pub async fn jetstream(&self) -> anyhow::Result<async_nats::jetstream::Context> {
        Ok(async_nats::jetstream::new(self.connect("edgefleet-cli").await?))
    }
}

/// The servers of `urls`: one URL, or several separated by commas (the hubs of a cluster).
pub fn server_addrs(urls: &str) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
    let servers = urls
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| {
            url.parse::<async_nats::ServerAddr>()
                .with_context(|| format!("hub URL {url:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!servers.is_empty(), "no hub URL in {urls:?}");
    Ok(servers)
}

/// A connect error that says what to do about it.
pub fn explain_connect_error(url: &str, address: &HubAddress, e: async_nats::ConnectError) -> anyhow::Error {
    use async_nats::ConnectErrorKind as Kind;
    let hint = match e.kind() {
        Kind::AuthorizationViolation | Kind::Authentication if address.creds.is_none() => {
            " (the hub refuses anonymous clients: pass --creds FILE or set EDGEFLEET_CREDS, e.g. <hub data dir>/admin.creds)"
        }
        Kind::AuthorizationViolation | Kind::Authentication => " (the credentials were refused: revoked, or of another fleet)",
        Kind::Tls if address.ca.is_none() => {
            " (the hub speaks TLS: pass --ca FILE or set EDGEFLEET_CA, e.g. <hub data dir>/ca.pem)"
        }
        Kind::Tls => " (the hub's certificate is not from that CA, or not valid for this address)",
        _ => "",
    };
    anyhow::anyhow!("cannot reach the hub at {url}: {e}{hint}")
}

/// Connects a long-running process to its own (local) nats-server with `options`, retrying forever on
/// disconnects.
pub async fn connect_local(url: &str, options: async_nats::ConnectOptions) -> anyhow::Result<async_nats::Client> {
    options
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("cannot reach nats-server at {url}"))
}
