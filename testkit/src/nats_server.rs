//! A real nats-server process for tests: own free ports, own directory, stopped on drop.
//!
//! Each [`NatsServer`] writes `nats.conf` into its directory (a fresh temp dir unless one is
//! given), starts the binary from [`find_nats_server`] with `-c nats.conf`, appends the process's
//! stdout and stderr to `nats-server.log` there, and waits until the process has written its
//! ports file (proof that it, not another test's server, holds the ports), a client connects and
//! the local JetStream API answers. Everything is per instance, so tests run in parallel.
//! This module must never leave a process behind: drop kills it.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use tokio::time::Instant;

use crate::free_port::free_ports;
use crate::nats_binary::{find_nats_server, NatsBinaryError};

/// How long a start or restart may take until the server answers `$JS.API.INFO`.
const READY_TIMEOUT_MS: u64 = 10_000;
/// Pause between two readiness probes.
const READY_POLL_MS: u64 = 20;
/// Connect and request timeout of a single readiness probe.
const PROBE_TIMEOUT_MS: u64 = 1_000;
/// Fresh-port retries when a server on auto-chosen ports exits early (the free-port race).
const MAX_PORT_RETRIES: u32 = 3;
/// Lines of the server log quoted in an error.
const LOG_TAIL_LINES: usize = 30;

/// Why a test nats-server could not be started or reached.
#[derive(thiserror::Error)]
pub enum NatsServerError {
    /// No binary to start.
    #[error(transparent)]
    Binary(#[from] NatsBinaryError),
    /// The server directory, config file or log file could not be written.
    #[error("cannot prepare {path:?} for nats-server: {source}")]
    Files {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The binary could not be executed.
    #[error("cannot run {binary:?}: {source}; reinstall with scripts/install-nats-server")]
    Spawn {
        /// The binary that was started.
        binary: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The process exited before it was ready (bad config, port taken, …).
    #[error(
        "nats-server {name:?} exited before it was ready ({status}) after {attempts} attempt(s); \
         see {log_path:?}, last lines:\n{log_tail}"
    )]
    Exited {
        /// The server name.
        name: String,
        /// How the process ended.
        status: ExitStatus,
        /// Starts tried (more than one when auto-chosen ports were taken).
        attempts: u32,
        /// The server log.
        log_path: PathBuf,
        /// The end of the server log.
        log_tail: String,
    },
    /// The process ran but did not answer `$JS.API.INFO` in time; it has been killed.
    #[error(
        "nats-server {name:?} was not ready within {timeout_ms} ms (last probe: {last_problem}); \
         see {log_path:?}, last lines:\n{log_tail}"
    )]
    NotReady {
        /// The server name.
        name: String,
        /// The deadline that passed.
        timeout_ms: u64,
        /// What the last readiness probe saw.
        last_problem: String,
        /// The server log.
        log_path: PathBuf,
        /// The end of the server log.
        log_tail: String,
    },
    /// A client could not connect to a server that was ready before.
    #[error("cannot connect to nats-server {name:?} at {url}: {source}")]
    Connect {
        /// The server name.
        name: String,
        /// The client URL.
        url: String,
        /// The underlying error.
        source: async_nats::ConnectError,
    },
}

/// Debug shows the message, so a test that returns this error with `?` prints the log tail
/// as lines instead of one escaped string.
impl std::fmt::Debug for NatsServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// What a server is asked to be; kept by [`NatsServer`] so a restart is the same server.
#[derive(Debug, Clone)]
struct Settings {
    name: String,
    jetstream_domain: Option<String>,
    leaf_listen: bool,
    leaf_remotes: Vec<String>,
    sync_always: bool,
    extra_config: String,
}

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
            settings: Settings {
                name: name.to_owned(),
                jetstream_domain: None,
                leaf_listen: false,
                leaf_remotes: Vec::new(),
                sync_always: false,
                extra_config: String::new(),
            },
            data_dir: None,
            client_port: None,
            leaf_port: None,
        }
    }

    /// Puts JetStream in `domain`, reachable from across leaf links as `$JS.<domain>.API`.
    pub fn jetstream_domain(mut self, domain: &str) -> Self {
        self.settings.jetstream_domain = Some(domain.to_owned());
        self
    }

    /// Opens a leafnodes listen port, with `no_advertise: true` so leaves only ever dial the
    /// URL they were given (a test proxy in between can then really cut the link).
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

    /// Uses `dir` for config, log and JetStream store instead of a fresh temp dir; `dir` is kept
    /// when the server is dropped, so a later server can reopen the same store.
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
        let (dir, temp_dir) = match self.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir).map_err(|source| NatsServerError::Files {
                    path: dir.clone(),
                    source,
                })?;
                (dir, None)
            }
            None => {
                let prefix = format!("nats-{}-", self.settings.name.replace('/', "_"));
                let temp_dir =
                    tempfile::Builder::new()
                        .prefix(&prefix)
                        .tempdir()
                        .map_err(|source| NatsServerError::Files {
                            path: std::env::temp_dir(),
                            source,
                        })?;
                (temp_dir.path().to_path_buf(), Some(temp_dir))
            }
        };
        let ports_auto =
            self.client_port.is_none() || (self.settings.leaf_listen && self.leaf_port.is_none());
        let mut attempts = 0;
        loop {
            attempts += 1;
            let [free_client_port, free_leaf_port] = free_ports::<2>();
            let mut server = NatsServer {
                client_port: self.client_port.unwrap_or(free_client_port),
                leaf_port: (self.settings.leaf_listen)
                    .then(|| self.leaf_port.unwrap_or(free_leaf_port)),
                settings: self.settings.clone(),
                binary: binary.clone(),
                dir: dir.clone(),
                child: None,
                temp_dir: None,
            };
            server.write_config()?;
            match server.launch().await {
                Ok(()) => {
                    server.temp_dir = temp_dir;
                    return Ok(server);
                }
                Err(NatsServerError::Exited { status, .. })
                    if ports_auto && attempts <= MAX_PORT_RETRIES =>
                {
                    tracing::warn!(
                        server = %server.settings.name, %status, attempts,
                        "nats-server exited early, retrying on fresh ports"
                    );
                }
                Err(mut error) => {
                    if let NatsServerError::Exited {
                        attempts: tried, ..
                    } = &mut error
                    {
                        *tried = attempts;
                    }
                    return Err(error);
                }
            }
        }
    }
}

/// A running nats-server with JetStream, on its own ports and directory; killed on drop.
#[derive(Debug)]
pub struct NatsServer {
    settings: Settings,
    binary: PathBuf,
    dir: PathBuf,
    client_port: u16,
    leaf_port: Option<u16>,
    child: Option<Child>,
    /// Declared last: removed only after `drop` has killed the process.
    temp_dir: Option<TempDir>,
}

impl NatsServer {
    /// A builder for a server named `name`; same as [`NatsServerBuilder::new`].
    pub fn builder(name: &str) -> NatsServerBuilder {
        NatsServerBuilder::new(name)
    }

    /// The hub of DESIGN §2: name and JetStream domain `hub`, a leaf listen port, fsync always.
    pub async fn hub() -> Result<NatsServer, NatsServerError> {
        Self::builder("hub")
            .jetstream_domain("hub")
            .leaf_listen()
            .sync_always()
            .start()
            .await
    }

    /// The URL clients connect to, `nats://127.0.0.1:PORT`.
    pub fn client_url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.client_port)
    }

    /// The URL leaves connect to, `nats-leaf://127.0.0.1:PORT`, if the server listens for them.
    pub fn leaf_url(&self) -> Option<String> {
        self.leaf_port
            .map(|port| format!("nats-leaf://127.0.0.1:{port}"))
    }

    /// The client port (the same across restarts).
    pub fn client_port(&self) -> u16 {
        self.client_port
    }

    /// The leafnodes listen port, if any (the same across restarts).
    pub fn leaf_port(&self) -> Option<u16> {
        self.leaf_port
    }

    /// The directory holding `nats.conf`, `nats-server.log` and the JetStream store `js/`.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The server's stdout and stderr, appended across restarts.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("nats-server.log")
    }

    /// A new client connected to this server (async-nats defaults: it reconnects forever).
    pub async fn connect(&self) -> Result<async_nats::Client, NatsServerError> {
        let url = self.client_url();
        async_nats::connect(url.as_str())
            .await
            .map_err(|source| NatsServerError::Connect {
                name: self.settings.name.clone(),
                url,
                source,
            })
    }

    /// Kills the process with SIGKILL now and waits for it to exit; the data dir is kept.
    ///
    /// Does nothing if the server is not running.
    pub fn kill9(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // `kill` sends SIGKILL on unix; both calls fail only if the child is already reaped.
        if let Err(error) = child.kill() {
            tracing::warn!(server = %self.settings.name, %error, "cannot kill nats-server");
        }
        if let Err(error) = child.wait() {
            tracing::warn!(server = %self.settings.name, %error, "cannot reap nats-server");
        }
        tracing::debug!(server = %self.settings.name, "nats-server killed");
    }

    /// Starts the server again with the same ports, config and data dir, and waits until it is
    /// ready; a running process is killed first (SIGKILL).
    pub async fn restart(&mut self) -> Result<(), NatsServerError> {
        self.kill9();
        self.launch().await
    }

    /// The process id while the server runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("nats.conf")
    }

    fn write_config(&self) -> Result<(), NatsServerError> {
        let path = self.config_path();
        std::fs::write(&path, self.render_config())
            .map_err(|source| NatsServerError::Files { path, source })
    }

    fn render_config(&self) -> String {
        let settings = &self.settings;
        let store_dir = self.dir.join("js");
        let mut lines = vec![
            "# Written by testkit for one test server.".to_owned(),
            format!("server_name: {}", quoted(&settings.name)),
            format!("listen: \"127.0.0.1:{}\"", self.client_port),
            format!(
                "ports_file_dir: {}",
                quoted(&self.ports_file_dir().to_string_lossy())
            ),
            "jetstream {".to_owned(),
            format!("  store_dir: {}", quoted(&store_dir.to_string_lossy())),
        ];
        if let Some(domain) = &settings.jetstream_domain {
            lines.push(format!("  domain: {}", quoted(domain)));
        }
        if settings.sync_always {
            lines.push("  sync_interval: always".to_owned());
        }
        lines.push("}".to_owned());
        if self.leaf_port.is_some() || !settings.leaf_remotes.is_empty() {
            lines.push("leafnodes {".to_owned());
            if let Some(port) = self.leaf_port {
                lines.push(format!("  listen: \"127.0.0.1:{port}\""));
                lines.push("  no_advertise: true".to_owned());
            }
            if !settings.leaf_remotes.is_empty() {
                lines.push("  remotes: [".to_owned());
                let remotes = settings.leaf_remotes.iter();
                lines.extend(remotes.map(|url| format!("    {{ url: {} }}", quoted(url))));
                lines.push("  ]".to_owned());
            }
            lines.push("}".to_owned());
        }
        lines.push(settings.extra_config.clone());
        lines.join("\n")
    }

    /// Spawns the process and waits until it is ready; on failure no process is left running.
    async fn launch(&mut self) -> Result<(), NatsServerError> {
        self.spawn()?;
        let ready = self.wait_ready().await;
        if ready.is_err() {
            self.kill9();
        }
        ready
    }

    fn spawn(&mut self) -> Result<(), NatsServerError> {
        debug_assert!(self.child.is_none(), "spawn while a process is running");
        let log_path = self.log_path();
        let files_error = |source| NatsServerError::Files {
            path: log_path.clone(),
            source,
        };
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(files_error)?;
        writeln!(
            log,
            "--- testkit: starting {} (client port {}, leaf port {:?}) ---",
            self.settings.name, self.client_port, self.leaf_port
        )
        .map_err(files_error)?;
        let stderr: File = log.try_clone().map_err(files_error)?;
        // A SIGKILLed server leaves its ports file behind; start with none so a stale file
        // can never stand for this process.
        let ports_file_dir = self.ports_file_dir();
        let ports_dir_error = |source| NatsServerError::Files {
            path: ports_file_dir.clone(),
            source,
        };
        if ports_file_dir.exists() {
            std::fs::remove_dir_all(&ports_file_dir).map_err(ports_dir_error)?;
        }
        std::fs::create_dir_all(&ports_file_dir).map_err(ports_dir_error)?;
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.config_path())
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .map_err(|source| NatsServerError::Spawn {
                binary: self.binary.clone(),
                source,
            })?;
        tracing::debug!(
            server = %self.settings.name, pid = child.id(), client_port = self.client_port,
            leaf_port = ?self.leaf_port, "nats-server spawned"
        );
        self.child = Some(child);
        Ok(())
    }

    /// Polls until a client connects and `$JS.API.INFO` answers for the configured domain.
    async fn wait_ready(&mut self) -> Result<(), NatsServerError> {
        let deadline = Instant::now() + Duration::from_millis(READY_TIMEOUT_MS);
        let mut client: Option<async_nats::Client> = None;
        let mut last_problem = String::from("no probe finished");
        loop {
            if let Some(status) = self.exit_status() {
                return Err(NatsServerError::Exited {
                    name: self.settings.name.clone(),
                    status,
                    attempts: 1,
                    log_path: self.log_path(),
                    log_tail: self.log_tail(),
                });
            }
            if Instant::now() >= deadline {
                return Err(NatsServerError::NotReady {
                    name: self.settings.name.clone(),
                    timeout_ms: READY_TIMEOUT_MS,
                    last_problem,
                    log_path: self.log_path(),
                    log_tail: self.log_tail(),
                });
            }
            match &client {
                // Only a process that bound all its ports writes its ports file; without this,
                // a probe could reach another server that won the free-port race.
                None if !self.ports_file_written() => {
                    last_problem = "no ports file yet: still starting".to_owned();
                }
                None => match probe_connect(&self.client_url()).await {
                    Ok(connected) => client = Some(connected),
                    Err(problem) => last_problem = problem,
                },
                Some(connected) => {
                    let domain = self.settings.jetstream_domain.as_deref();
                    match probe_jetstream(connected, domain).await {
                        Ok(()) => {
                            tracing::info!(
                                server = %self.settings.name, url = %self.client_url(),
                                leaf_url = ?self.leaf_url(), "nats-server ready"
                            );
                            return Ok(());
                        }
                        Err(problem) => last_problem = problem,
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(READY_POLL_MS)).await;
        }
    }

    /// The directory where nats-server writes `<binary>_<pid>.ports` once it listens.
    fn ports_file_dir(&self) -> PathBuf {
        self.dir.join("ports")
    }

    /// True once the running process has written its ports file (after binding every port).
    fn ports_file_written(&self) -> bool {
        let Some(pid) = self.pid() else {
            return false;
        };
        let suffix = format!("_{pid}.ports");
        let Ok(entries) = std::fs::read_dir(self.ports_file_dir()) else {
            return false;
        };
        entries
            .filter_map(Result::ok)
            .any(|entry| entry.file_name().to_string_lossy().ends_with(&suffix))
    }

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

    fn log_tail(&self) -> String {
        match std::fs::read_to_string(self.log_path()) {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
            }
            Err(error) => format!("(cannot read the log: {error})"),
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One connection attempt with a short timeout and no reconnect-on-start.
async fn probe_connect(url: &str) -> Result<async_nats::Client, String> {
    async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_millis(PROBE_TIMEOUT_MS))
        .request_timeout(Some(Duration::from_millis(PROBE_TIMEOUT_MS)))
        .connect(url)
        .await
        .map_err(|error| format!("connect to {url}: {error}"))
}

/// Ok if the local JetStream API answers `$JS.API.INFO` without an error, in `domain`.
async fn probe_jetstream(client: &async_nats::Client, domain: Option<&str>) -> Result<(), String> {
    let reply = client
        .request("$JS.API.INFO", "".into())
        .await
        .map_err(|error| format!("$JS.API.INFO request: {error}"))?;
    let info: serde_json::Value = serde_json::from_slice(&reply.payload)
        .map_err(|error| format!("$JS.API.INFO reply is not JSON: {error}"))?;
    if let Some(error) = info.get("error") {
        return Err(format!("$JS.API.INFO error: {error}"));
    }
    let answered_domain = info.get("domain").and_then(serde_json::Value::as_str);
    if answered_domain != domain {
        return Err(format!(
            "$JS.API.INFO answered for domain {answered_domain:?}, expected {domain:?}"
        ));
    }
    Ok(())
}

/// `value` as a double-quoted nats-server config string.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}
