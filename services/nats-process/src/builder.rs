//! [`NatsServerBuilder`]: collects what a server should be, then starts it.
//!
//! Only configuration lives here; spawning, readiness and the port retries are the server's.

use std::path::PathBuf;

use crate::auth_config::AuthConfig;
use crate::binary::find_nats_server;
use crate::client_credentials::ClientCredentials;
use crate::client_options::ClientAuth;
use crate::config::Settings;
use crate::error::NatsServerError;
use crate::leaf_remote::LeafRemote;
use crate::server::{NatsServer, PortChoice};
use crate::server_dir::ServerDir;
use crate::tls_files::TlsFiles;

/// Configures a [`NatsServer`]; JetStream is always enabled.
#[derive(Debug, Clone)]
pub struct NatsServerBuilder {
    settings: Settings,
    client_auth: ClientAuth,
    data_dir: Option<PathBuf>,
    client_port: Option<u16>,
    leaf_port: Option<u16>,
}

impl NatsServerBuilder {
    /// A server named `name` (its `server_name`, also used in log lines and the temp dir name).
    ///
    /// Panics if `name` is empty or has whitespace, which nats-server rejects.
    pub fn new(name: &str) -> Self {
        assert!(
            !name.is_empty() && !name.contains(char::is_whitespace),
            "nats-server name {name:?} must be non-empty and without whitespace"
        );
        Self {
            settings: Settings::new(name),
            client_auth: ClientAuth::default(),
            data_dir: None,
            client_port: None,
            leaf_port: None,
        }
    }

    /// Listens for clients and leaves on `host` instead of `127.0.0.1` (e.g. `0.0.0.0` to accept
    /// connections from other machines; an IPv6 literal may come with or without brackets).
    ///
    /// [`NatsServer::client_url`] still dials loopback when `host` is a wildcard address.
    pub fn listen_host(mut self, host: &str) -> Self {
        host.clone_into(&mut self.settings.listen_host);
        self
    }

    /// Puts JetStream in `domain`, reachable from across leaf links as `$JS.<domain>.API`.
    pub fn jetstream_domain(mut self, domain: &str) -> Self {
        self.settings.jetstream_domain = Some(domain.to_owned());
        self
    }

    /// Opens a leafnodes listen port, with `no_advertise: true` so leaves only ever dial the
    /// URL they were given (a proxy in between can then really cut the link).
    pub fn leaf_listen(mut self) -> Self {
        self.settings.leaf_listen = true;
        self
    }

    /// Connects as a leaf to the hub at `url` (`nats-leaf://host:port`); may be called again
    /// for more remotes. Same as [`Self::leaf_remote_to`] with [`LeafRemote::new`].
    pub fn leaf_remote(self, url: &str) -> Self {
        self.leaf_remote_to(LeafRemote::new(url))
    }

    /// Connects as a leaf to `remote` (with its credentials, local account and CA); may be
    /// called again for more remotes.
    pub fn leaf_remote_to(mut self, remote: LeafRemote) -> Self {
        self.settings.leaf_remotes.push(remote);
        self
    }

    /// Speaks TLS with `files` on the client port and, if there is one, the leafnodes listen
    /// port; client certificates are not required (clients authenticate with credentials).
    ///
    /// The certificate must name the host clients dial ([`NatsServer::client_url`]: the listen
    /// host, `127.0.0.1` for a wildcard). This crate's own clients then require TLS and trust
    /// `files.ca` unless [`Self::client_ca`] names another CA.
    pub fn tls(mut self, files: TlsFiles) -> Self {
        self.settings.tls = Some(files);
        self
    }

    /// Sets the top-level authentication block, verbatim: an operator-mode block
    /// (`operator: …`, `system_account: …`, `resolver: {…}`) or `accounts { … }` with users.
    /// Replaces an earlier one; kept apart from [`Self::extra_config`] so it can be replaced
    /// while the server runs ([`NatsServer::set_auth_config`], [`NatsServer::reload`]).
    ///
    /// Quote passwords and paths in it with [`crate::config_string`].
    pub fn auth_config(mut self, text: &str) -> Self {
        self.settings.auth_config = AuthConfig::new(text);
        self
    }

    /// How the readiness probe and [`NatsServer::connect`] authenticate (default: anonymous).
    ///
    /// The probe asks `$JS.API.INFO`, which is answered in the user's own account: use a user
    /// whose account has JetStream, or the server never becomes ready.
    pub fn client_credentials(mut self, credentials: ClientCredentials) -> Self {
        self.client_auth.credentials = credentials;
        self
    }

    /// Makes this crate's own clients require TLS and trust only the CA in `ca` for the
    /// server's certificate (default: the CA of [`Self::tls`], if any).
    pub fn client_ca(mut self, ca: PathBuf) -> Self {
        self.client_auth.ca = Some(ca);
        self
    }

    /// Fsyncs every JetStream write (`sync_interval: always`): acknowledged means on disk.
    ///
    /// About 30× slower to publish than the default 2-minute interval (DESIGN §7).
    pub fn sync_always(mut self) -> Self {
        self.settings.sync_always = true;
        self
    }

    /// Makes the server a member of a cluster (give every member a distinct name).
    pub fn cluster(mut self, routes: crate::ClusterRoutes) -> Self {
        self.settings.cluster = Some(routes);
        self
    }

    /// Tags the server (`server_tags`): streams placed by tag (`placement.tags`) land only on servers with them.
    pub fn server_tags(mut self, tags: &[&str]) -> Self {
        self.settings.server_tags = tags.iter().map(|tag| (*tag).to_owned()).collect();
        self
    }

    /// Lets JetStream keep at most `bytes` on disk (`max_file_store`) instead of 75% of the disk free at start.
    /// Streams reserve their byte caps from it.
    pub fn max_file_store(mut self, bytes: u64) -> Self {
        self.settings.max_file_store = Some(bytes);
        self
    }

    /// Uses `dir` for config, log, ports file and JetStream store instead of a fresh temp dir;
    /// `dir` is created if missing and kept when the server is dropped, so a later server can
    /// reopen the same store.
    pub fn data_dir(mut self, dir: PathBuf) -> Self {
        self.data_dir = Some(dir);
        self
    }

    /// Listens for clients on `port` instead of a free port (no retry if it is taken).
    pub fn client_port(mut self, port: u16) -> Self {
        self.client_port = Some(port);
        self
    }

    /// Listens for leaf connections on `port` instead of a free port; implies [`Self::leaf_listen`].
    pub fn leaf_port(mut self, port: u16) -> Self {
        self.leaf_port = Some(port);
        self.leaf_listen()
    }

    /// Appends `text` verbatim to the generated `nats.conf`.
    ///
    /// Authentication belongs in [`Self::auth_config`], which a reload can replace. A `log_file`
    /// here would take the server's lines out of `nats-server.log`, where
    /// [`NatsServer::reload`] reads whether the server accepted a new config.
    pub fn extra_config(mut self, text: &str) -> Self {
        self.settings.extra_config.push_str(text);
        self.settings.extra_config.push('\n');
        self
    }

    /// Starts the server and waits (up to 10 s) until it serves clients and JetStream.
    ///
    /// If a server on auto-chosen ports exits early — most likely because another process took
    /// a port in the free-port race — it is started again on fresh ports, up to 3 more times.
    pub async fn start(self) -> Result<NatsServer, NatsServerError> {
        let binary = find_nats_server()?;
        let dir = match self.data_dir {
            Some(dir) => ServerDir::kept(dir)?,
            None => ServerDir::temporary(&self.settings.name)?,
        };
        let ports = PortChoice {
            client: self.client_port,
            leaf: self.leaf_port,
        };
        let mut client_auth = self.client_auth;
        if client_auth.ca.is_none() {
            client_auth.ca = self.settings.tls.as_ref().map(|tls| tls.ca.clone());
        }
        NatsServer::start(self.settings, client_auth, binary, dir, ports).await
    }
}
