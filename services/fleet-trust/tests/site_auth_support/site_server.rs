//! A site's own nats-server on a free port in its own temp dir, configured with the rendered auth block and
//! JetStream in the site's domain; its config reloaded (`nats-server --signal reload=<pid>`) or the process
//! restarted on the same port and store on demand. A test of the account boundary alone may add a probe: a user of
//! the `NODES` account without any permission rules, which the rendering never makes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fleet_trust::{SiteServerAuth, NODES_ACCOUNT};
use nats_process::ChildProcess;
use tempfile::TempDir;

/// How long the server may take to be ready, reload, or restart.
const DEADLINE: Duration = Duration::from_secs(20);

/// The log line nats-server writes after a config reload.
const RELOADED: &str = "Reloaded server configuration";

/// A running site server.
pub struct SiteServer {
    process: ChildProcess,
    /// `nats://127.0.0.1:<port>`.
    pub url: String,
    port: u16,
    dir: TempDir,
    /// The site process's seed, to check readiness.
    process_seed: String,
    /// Extra config lines (e.g. `trace: true`).
    extra: String,
    /// The public key of an unrestricted user added to `NODES`, if any.
    nodes_probe: Option<String>,
}

impl SiteServer {
    /// Starts a server for `auth` with `extra` config lines (e.g. `trace: true`) and, if given, `nodes_probe` (a
    /// public key) as an unrestricted user of `NODES`; the site process connects with `process_seed`. Retries on
    /// fresh ports if a start loses a port race.
    pub async fn start(auth: &SiteServerAuth, process_seed: &str, extra: &str, nodes_probe: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut dir = Some(dir);
        for _attempt in 0..3 {
            let port = nats_process::free_port();
            let taken = dir.take().expect("temp dir kept between attempts");
            let config = config_text(taken.path(), port, auth, extra, nodes_probe.as_deref());
            let process = spawn(taken.path(), &config);
            let mut server = Self {
                process,
                url: format!("nats://127.0.0.1:{port}"),
                port,
                dir: taken,
                process_seed: process_seed.to_owned(),
                extra: extra.to_owned(),
                nodes_probe: nodes_probe.clone(),
            };
            if server.wait_ready().await {
                return server;
            }
            dir = Some(server.dir);
        }
        panic!("the site nats-server did not start in 3 attempts");
    }

    /// Writes the config for `auth` and makes the running server reload it; returns once it has.
    pub async fn reload(&mut self, auth: &SiteServerAuth) {
        let reloads_before = self.process.log_text().matches(RELOADED).count();
        write_config(self.dir.path(), &self.config_text(auth));
        let status = Command::new(nats_process::find_nats_server().expect("nats-server binary"))
            .arg("--signal")
            .arg(format!("reload={}", self.process.id()))
            .status()
            .expect("run nats-server --signal reload");
        assert!(status.success(), "nats-server --signal reload failed: {status}");
        let started = Instant::now();
        while self.process.log_text().matches(RELOADED).count() == reloads_before {
            assert!(
                started.elapsed() < DEADLINE,
                "no reload after {DEADLINE:?}:\n{}",
                self.process.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the server (SIGKILL: its clients see the connection drop).
    pub fn kill(&mut self) {
        self.process.kill_group();
    }

    /// Starts the killed server again on the same port, config and store; returns once it is ready.
    pub async fn start_again(&mut self, auth: &SiteServerAuth) {
        self.process = spawn(self.dir.path(), &self.config_text(auth));
        assert!(self.wait_ready().await, "the site server did not come back on its port");
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.process.log_text()
    }

    /// This server's config for `auth`.
    fn config_text(&self, auth: &SiteServerAuth) -> String {
        config_text(
            self.dir.path(),
            self.port,
            auth,
            &self.extra,
            self.nodes_probe.as_deref(),
        )
    }

    /// True once the site process can connect and JetStream answers; false if the process exited first.
    async fn wait_ready(&mut self) -> bool {
        let started = Instant::now();
        loop {
            if !self.process.is_running() {
                eprintln!("site server exited early:\n{}", self.process.log_text());
                return false;
            }
            if self.jetstream_answers().await {
                return true;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "site server not ready after {DEADLINE:?}:\n{}",
                self.process.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn jetstream_answers(&self) -> bool {
        let Ok(client) = async_nats::ConnectOptions::with_nkey(self.process_seed.clone())
            .connection_timeout(Duration::from_secs(2))
            .connect(&self.url)
            .await
        else {
            return false;
        };
        async_nats::jetstream::new(client).query_account().await.is_ok()
    }
}

/// Writes `config` and starts nats-server on it, logging to `<dir>/site.log`.
fn spawn(dir: &Path, config: &str) -> ChildProcess {
    let config = write_config(dir, config);
    let binary = nats_process::find_nats_server().expect("nats-server binary");
    ChildProcess::spawn(
        "site",
        &binary,
        &["-c".to_owned(), config.display().to_string()],
        &[],
        &dir.join("site.log"),
    )
    .expect("spawn nats-server")
}

/// Writes `config` to `<dir>/site.conf`.
fn write_config(dir: &Path, config: &str) -> PathBuf {
    let path = dir.join("site.conf");
    std::fs::write(&path, config).expect("write site.conf");
    path
}

/// Listen on `port`, JetStream in the site's domain with its store in `<dir>/js`, `extra`, and `auth`'s accounts
/// block with `nodes_probe` added to `NODES`.
fn config_text(dir: &Path, port: u16, auth: &SiteServerAuth, extra: &str, nodes_probe: Option<&str>) -> String {
    let mut accounts = auth.render().expect("render the site server's auth");
    if let Some(probe) = nodes_probe {
        let users = format!("  {NODES_ACCOUNT}: {{\n    users: [\n");
        let at = accounts.find(&users).expect("the NODES account's users") + users.len();
        accounts.insert_str(at, &format!("      {{ nkey: \"{probe}\" }}\n"));
    }
    format!(
        "server_name: site\nlisten: \"127.0.0.1:{port}\"\njetstream {{ store_dir: {:?}, domain: {} }}\n{extra}\n{accounts}",
        dir.join("js").display().to_string(),
        auth.site,
    )
}
