//! [`NatsServer`]: one nats-server process with JetStream, on its own ports and directory.
//!
//! Each server writes `nats.conf` into its directory, starts the binary with `-c nats.conf`,
//! appends the process's stdout and stderr to `nats-server.log` there, and waits until the
//! process is ready (see `ready`). A supervisor polls [`NatsServer::is_running`] and calls
//! [`NatsServer::restart`]; shutdown is [`NatsServer::stop`] (SIGTERM, then SIGKILL).
//! The auth config can be replaced while the process runs (see `reload`).
//! This module must never leave a process behind: drop kills it.

mod reload;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use crate::auth_config::AuthConfig;
use crate::client_options::ClientAuth;
use crate::config::{self, Paths, Ports, Settings};
use crate::error::NatsServerError;
use crate::free_port::free_ports;
use crate::ready::ReadinessProbe;
use crate::server_dir::ServerDir;
use crate::server_log;
use crate::shutdown;

/// How long a start or restart may take until the server answers `$JS.API.INFO`.
const READY_TIMEOUT_MS: u64 = 10_000;
/// Pause between two readiness probes.
const READY_POLL_MS: u64 = 20;
/// Fresh-port retries when a server on auto-chosen ports exits early (the free-port race).
const MAX_PORT_RETRIES: u32 = 3;

/// The ports a builder asked for; `None` means any free port.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortChoice {
    /// The client port, if fixed.
    pub(crate) client: Option<u16>,
    /// The leafnodes listen port, if fixed.
    pub(crate) leaf: Option<u16>,
}

impl PortChoice {
    /// True if some port is picked here, so a port taken meanwhile is worth a retry.
    fn any_auto(self, leaf_listen: bool) -> bool {
        self.client.is_none() || (leaf_listen && self.leaf.is_none())
    }

    /// The fixed ports, and fresh free ports for the others.
    fn pick(self, leaf_listen: bool) -> Ports {
        let [free_client, free_leaf] = free_ports::<2>();
        Ports {
            client: self.client.unwrap_or(free_client),
            leaf: leaf_listen.then(|| self.leaf.unwrap_or(free_leaf)),
        }
    }
}

/// A nats-server with JetStream, on its own ports and directory; killed on drop.
#[derive(Debug)]
pub struct NatsServer {
    /// What the server is asked to be; the next start, restart or reload renders these.
    settings: Settings,
    /// The auth config of the last successful start or reload: what the process runs with.
    accepted_auth_config: AuthConfig,
    /// How the readiness probe and [`NatsServer::connect`] authenticate.
    client_auth: ClientAuth,
    binary: PathBuf,
    ports: Ports,
    /// `Some` from spawn until the process is known to be gone.
    child: Option<Child>,
    /// A temp dir is removed only after `drop` has killed the process.
    dir: ServerDir,
}

impl NatsServer {
    /// A builder for a server named `name`; same as [`crate::NatsServerBuilder::new`].
    pub fn builder(name: &str) -> crate::NatsServerBuilder {
        crate::NatsServerBuilder::new(name)
    }

    /// The hub of DESIGN §2 on free ports in a temp dir: name and JetStream domain `hub`, a leaf
    /// listen port, fsync always.
    pub async fn hub() -> Result<NatsServer, NatsServerError> {
        Self::builder("hub")
            .jetstream_domain("hub")
            .leaf_listen()
            .sync_always()
            .start()
            .await
    }

    /// Starts a server in `dir`, retrying on fresh ports if ports picked here were taken.
    pub(crate) async fn start(
        settings: Settings,
        client_auth: ClientAuth,
        binary: PathBuf,
        dir: ServerDir,
        choice: PortChoice,
    ) -> Result<NatsServer, NatsServerError> {
        let leaf_listen = settings.leaf_listen;
        let mut server = NatsServer {
            ports: choice.pick(leaf_listen),
            accepted_auth_config: settings.auth_config.clone(),
            settings,
            client_auth,
            binary,
            child: None,
            dir,
        };
        let mut attempts = 1;
        loop {
            server.write_config()?;
            match server.launch().await {
                Ok(()) => return Ok(server),
                Err(NatsServerError::Exited { status, .. })
                    if choice.any_auto(leaf_listen) && attempts <= MAX_PORT_RETRIES =>
                {
                    tracing::warn!(
                        server = %server.settings.name, %status, attempts,
                        "nats-server exited early, retrying on fresh ports"
                    );
                    server.ports = choice.pick(leaf_listen);
                    attempts += 1;
                }
                Err(mut error) => {
                    if let NatsServerError::Exited { attempts: tried, .. } = &mut error {
                        *tried = attempts;
                    }
                    return Err(error);
                }
            }
        }
    }

    /// The URL clients on this machine connect to, `nats://HOST:PORT`; HOST is the listen host,
    /// or loopback when that is a wildcard such as `0.0.0.0`.
    pub fn client_url(&self) -> String {
        let host = config::dial_host(&self.settings.listen_host);
        format!("nats://{host}:{}", self.ports.client)
    }

    /// The URL leaves on this machine connect to, `nats-leaf://HOST:PORT`, if the server
    /// listens for them (HOST as in [`Self::client_url`]).
    pub fn leaf_url(&self) -> Option<String> {
        let host = config::dial_host(&self.settings.listen_host);
        self.ports.leaf.map(|port| format!("nats-leaf://{host}:{port}"))
    }

    /// The client port (the same across restarts).
    pub fn client_port(&self) -> u16 {
        self.ports.client
    }

    /// The leafnodes listen port, if any (the same across restarts).
    pub fn leaf_port(&self) -> Option<u16> {
        self.ports.leaf
    }

    /// The directory holding `nats.conf`, `nats-server.log`, `ports/` and the JetStream store.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The JetStream `store_dir`, `js/` in [`Self::data_dir`].
    pub fn store_dir(&self) -> PathBuf {
        self.dir.store_dir()
    }

    /// The server's stdout and stderr, appended across restarts.
    pub fn log_path(&self) -> PathBuf {
        self.dir.log_path()
    }

    /// The options this crate's own clients connect with: the builder's
    /// [`client_credentials`](crate::NatsServerBuilder::client_credentials), and with a
    /// [`client_ca`](crate::NatsServerBuilder::client_ca) TLS required and only that CA trusted;
    /// async-nats defaults otherwise. Connect to [`Self::client_url`] with them to reach the
    /// server exactly as the readiness probe does.
    pub async fn connect_options(&self) -> Result<async_nats::ConnectOptions, NatsServerError> {
        self.client_auth.connect_options().await
    }

    /// A new client connected to this server with [`Self::connect_options`] (async-nats
    /// defaults otherwise: it reconnects forever).
    pub async fn connect(&self) -> Result<async_nats::Client, NatsServerError> {
        let url = self.client_url();
        self.connect_options()
            .await?
            .connect(url.as_str())
            .await
            .map_err(|source| NatsServerError::Connect {
                name: self.settings.name.clone(),
                url,
                source,
            })
    }

    /// The process id while the server runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// True while the process is alive; false once it was stopped, killed or has exited on its
    /// own (a crash is logged, and [`Self::restart`] brings the server back).
    pub fn is_running(&mut self) -> bool {
        if let Some(status) = self.exit_status() {
            tracing::warn!(server = %self.settings.name, %status, "nats-server exited");
            server_log::append_marker(&self.log_path(), &format!("exited ({status})"));
            self.child = None;
        }
        self.child.is_some()
    }

    /// The server's name (`server_name`).
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Kills the process with SIGKILL now and waits for it to exit; the data dir is kept.
    ///
    /// Does nothing if the server is not running.
    pub fn kill9(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        shutdown::kill(&self.settings.name, &mut child);
        server_log::append_marker(&self.log_path(), "killed (SIGKILL)");
        tracing::debug!(server = %self.settings.name, "nats-server killed");
    }

    /// Stops the process gracefully: SIGTERM (JetStream flushes and closes its store), then
    /// SIGKILL if it has not exited within 5 s. The data dir is kept.
    ///
    /// Blocks the calling thread until the process is gone (usually a few milliseconds).
    /// Does nothing if the server is not running.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let name = &self.settings.name;
        let outcome = shutdown::terminate(name, &mut child);
        server_log::append_marker(&self.log_path(), &outcome);
        tracing::info!(server = %name, %outcome, "nats-server stopped");
    }

    /// Starts the server again with the same ports, config and data dir, and waits until it is
    /// ready; a running process is killed first (SIGKILL — call [`Self::stop`] before for a
    /// graceful restart). The config is written again from this server's settings first, so a
    /// `nats.conf` changed on disk by anyone else never decides what comes back; the auth config
    /// is the latest one set (see [`Self::set_auth_config`]), and the probe uses the latest
    /// client credentials.
    pub async fn restart(&mut self) -> Result<(), NatsServerError> {
        self.kill9();
        // From this server's own settings, never from whatever `nats.conf` holds now.
        self.write_config()?;
        self.launch().await
    }

    /// Writes `nats.conf` from the settings as they are now.
    fn write_config(&self) -> Result<(), NatsServerError> {
        let ports_dir = self.dir.ports_dir();
        let store_dir = self.dir.store_dir();
        let paths = Paths {
            ports_dir: &ports_dir,
            store_dir: &store_dir,
        };
        let path = self.dir.config_path();
        std::fs::write(&path, config::render(&self.settings, self.ports, paths))
            .map_err(|source| NatsServerError::Files { path, source })
    }

    /// Spawns the process and waits until it is ready; on failure no process is left running.
    async fn launch(&mut self) -> Result<(), NatsServerError> {
        // Before spawning: unreadable credentials are the caller's to fix, not a server failure.
        let probe_options = self.connect_options().await?;
        let pid = self.spawn()?;
        let ready = self.wait_ready(pid, probe_options).await;
        match ready {
            Ok(()) => self.accepted_auth_config = self.settings.auth_config.clone(),
            Err(_) => self.kill9(),
        }
        ready
    }

    /// Starts the process with output appended to the log; returns its pid.
    fn spawn(&mut self) -> Result<u32, NatsServerError> {
        debug_assert!(self.child.is_none(), "spawn while a process is running");
        let log_path = self.log_path();
        let files_error = |source| NatsServerError::Files {
            path: log_path.clone(),
            source,
        };
        let marker = format!(
            "starting {} (client port {}, leaf port {:?})",
            self.settings.name, self.ports.client, self.ports.leaf
        );
        let stdout = server_log::open_with_marker(&log_path, &marker).map_err(files_error)?;
        let stderr = stdout.try_clone().map_err(files_error)?;
        self.dir.clear_ports_dir()?;
        let mut command = Command::new(&self.binary);
        command
            .arg("-c")
            .arg(self.dir.config_path())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        // The server never outlives the process that started it (a hub or site killed with -9 included).
        crate::parent_lifeline::die_with_parent(&mut command);
        let child = command.spawn().map_err(|source| NatsServerError::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        let pid = child.id();
        tracing::debug!(
            server = %self.settings.name, pid, client_port = self.ports.client,
            leaf_port = ?self.ports.leaf, "nats-server spawned"
        );
        self.child = Some(child);
        Ok(pid)
    }

    /// Probes until process `pid` is ready, has exited, or the deadline passed.
    /// The probe connects with `probe_options`.
    async fn wait_ready(&mut self, pid: u32, probe_options: async_nats::ConnectOptions) -> Result<(), NatsServerError> {
        let deadline = Instant::now() + Duration::from_millis(READY_TIMEOUT_MS);
        let mut probe = ReadinessProbe::new(
            self.dir.ports_dir(),
            pid,
            self.client_url(),
            self.settings.jetstream_domain.clone(),
            probe_options,
        );
        let mut last_problem = String::from("no probe finished");
        loop {
            if let Some(status) = self.exit_status() {
                return Err(NatsServerError::Exited {
                    name: self.settings.name.clone(),
                    status,
                    attempts: 1,
                    log_path: self.log_path(),
                    log_tail: server_log::tail(&self.log_path()),
                });
            }
            if Instant::now() >= deadline {
                return Err(NatsServerError::NotReady {
                    name: self.settings.name.clone(),
                    timeout_ms: READY_TIMEOUT_MS,
                    last_problem,
                    log_path: self.log_path(),
                    log_tail: server_log::tail(&self.log_path()),
                });
            }
            match probe.step().await {
                Ok(()) => {
                    tracing::info!(
                        server = %self.settings.name, url = %self.client_url(),
                        leaf_url = ?self.leaf_url(), "nats-server ready"
                    );
                    return Ok(());
                }
                Err(problem) => last_problem = problem,
            }
            tokio::time::sleep(Duration::from_millis(READY_POLL_MS)).await;
        }
    }

    /// How the process ended, if it has; `None` while it runs or when there is none.
    fn exit_status(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(status) => status,
            Err(error) => {
                tracing::warn!(server = %self.settings.name, %error, "cannot poll nats-server");
                None
            }
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill9();
    }
}
