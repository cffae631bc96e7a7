//! [`NatsServerBuilder`]: collects what a server should be, then starts it.
//!
//! Only configuration lives here; spawning, readiness and the port retries are the server's.

use std::path::PathBuf;

use crate::binary::find_nats_server;
use crate::config::Settings;
use crate::error::NatsServerError;
use crate::server::{NatsServer, PortChoice};
use crate::server_dir::ServerDir;

/// Configures a [`NatsServer`]; JetStream is always enabled.
#[derive(Debug, Clone)]
pub struct NatsServerBuilder {
    settings: Settings,
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
    /// for more remotes.
    pub fn leaf_remote(mut self, url: &str) -> Self {
        self.settings.leaf_remotes.push(url.to_owned());
        self
    }

    /// Fsyncs every JetStream write (`sync_interval: always`): acknowledged means on disk.
    ///
    /// About 30× slower to publish than the default 2-minute interval (DESIGN §7).
    pub fn sync_always(mut self) -> Self {
        self.settings.sync_always = true;
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
        NatsServer::start(self.settings, binary, dir, ports).await
    }
}
