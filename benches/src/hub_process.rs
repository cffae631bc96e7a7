//! A real `edgefleet hub` process for the bench: started from the release binary on free ports with its data in a
//! temp dir, in its own process group (dropping it kills the group: the hub and its nats-server), reached as its
//! admin over TLS, stopped with SIGTERM.

use anyhow::Context as _;
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testkit::ChildProcess;

/// How long the hub may take to write its admin credentials and answer its API.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long one API request may take (a `sites.add` creates an account and a stream, fsync per write).
pub const API_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `edgefleet hub`.
pub struct HubProcess {
    // Declared before `dir`: the process group is killed before its data is removed.
    process: ChildProcess,
    data_dir: PathBuf,
    url: String,
    /// Where it serves its web dashboard (loopback, plain HTTP).
    pub dashboard_port: u16,
    dir: tempfile::TempDir,
}

impl HubProcess {
    /// Starts `edgefleet hub` from `binary` on free ports, data in a new temp dir, `RUST_LOG=warn`.
    pub fn spawn(binary: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("temp dir for the hub")?;
        let data_dir = dir.path().join("hub");
        let [client_port, leaf_port, dashboard_port] = testkit::free_port::free_ports::<3>();
        let args = vec![
            "hub".to_string(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--listen".into(),
            format!("127.0.0.1:{client_port}"),
            "--leaf-listen".into(),
            format!("127.0.0.1:{leaf_port}"),
            "--http-listen".into(),
            format!("127.0.0.1:{dashboard_port}"),
        ];
        let log = dir.path().join("hub.log");
        let process = ChildProcess::spawn("hub", binary, &args, &[("RUST_LOG", "warn".into())], &log)
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Self {
            process,
            data_dir,
            url: format!("nats://127.0.0.1:{client_port}"),
            dashboard_port,
            dir,
        })
    }

    /// Waits until the hub wrote its admin credentials and answers `sites.list`; returns the admin's client.
    pub async fn admin_when_ready(&mut self) -> anyhow::Result<async_nats::Client> {
        let started = Instant::now();
        let creds = self.data_dir.join("admin.creds");
        let mut last_error = String::from("admin.creds not written yet");
        while started.elapsed() < READY_WITHIN {
            anyhow::ensure!(
                self.process.is_running(),
                "the hub exited while starting; its log:\n{}",
                self.log_tail()
            );
            if creds.is_file() {
                match self.admin().await {
                    Ok(client) => match api_request(&client, "sites.list", Bytes::from_static(b"{}")).await {
                        Ok(_) => return Ok(client),
                        Err(e) => last_error = format!("{e:#}"),
                    },
                    Err(e) => last_error = format!("{e:#}"),
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        anyhow::bail!(
            "the hub was not ready within {READY_WITHIN:?} ({last_error}); its log:\n{}",
            self.log_tail()
        )
    }

    /// A client of the hub as its admin.
    async fn admin(&self) -> anyhow::Result<async_nats::Client> {
        self.connect(
            "edgefleet-bench-admin",
            &self.data_dir.join("admin.creds"),
            Some(API_TIMEOUT),
        )
        .await
    }

    /// A client of the hub as the user of `creds`, over TLS from the hub's CA.
    pub async fn connect(
        &self,
        name: &str,
        creds: &Path,
        request_timeout: Option<Duration>,
    ) -> anyhow::Result<async_nats::Client> {
        let options = async_nats::ConnectOptions::new()
            .credentials_file(creds)
            .await
            .with_context(|| format!("credentials {}", creds.display()))?
            .add_root_certificates(self.data_dir.join("ca.pem"))
            .require_tls(true)
            .name(name)
            .request_timeout(request_timeout);
        options
            .connect(self.url.as_str())
            .await
            .with_context(|| format!("connecting to {} as {}", self.url, creds.display()))
    }

    /// The hub's own user in `site`'s account (what answers the site's beacons).
    pub fn hub_in_site_creds(&self, site: &str) -> PathBuf {
        self.data_dir.join("trust").join("sites").join(site).join("hub.creds")
    }

    /// The hub process's id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The id of the hub's nats-server, from its ports file (`<data>/nats/ports/<name>_<pid>.ports`).
    pub fn nats_server_pid(&self) -> anyhow::Result<u32> {
        let server_dir = self.data_dir.join("nats");
        testkit::running_server_pid(&server_dir)
            .with_context(|| format!("no ports file names the hub's nats-server in {}", server_dir.display()))
    }

    /// Lines of the hub's log at WARN and at ERROR.
    pub fn log_warnings_and_errors(&self) -> (usize, usize) {
        let log = self.process.log_text();
        let warnings = log.lines().filter(|l| l.contains(" WARN ")).count();
        let errors = log.lines().filter(|l| l.contains(" ERROR ")).count();
        (warnings, errors)
    }

    /// The last lines of the hub's log, for error messages.
    pub fn log_tail(&self) -> String {
        let log = self.process.log_text();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// SIGTERM (the hub stops its nats-server), SIGKILL to the group after 10 s; then the temp dir is removed.
    /// Returns how long the hub took to stop.
    pub fn stop(mut self) -> Duration {
        let started = Instant::now();
        tokio::task::block_in_place(|| self.process.stop());
        let took = started.elapsed();
        let Self { process, dir, .. } = self;
        drop(process);
        if let Err(e) = dir.close() {
            eprintln!("live sites: the hub's temp dir was not removed: {e}");
        }
        took
    }
}

/// Calls `ef.api.v1.<endpoint>` with `body`; the reply's payload, or the API's `{"error":…}` as an error.
pub async fn api_request(client: &async_nats::Client, endpoint: &str, body: Bytes) -> anyhow::Result<Bytes> {
    let subject = format!("ef.api.v1.{endpoint}");
    let reply = tokio::time::timeout(API_TIMEOUT, client.request(subject.clone(), body))
        .await
        .with_context(|| format!("{subject}: no answer within {API_TIMEOUT:?}"))?
        .with_context(|| format!("{subject}: request failed"))?;
    if reply.payload.starts_with(b"{\"error\"") {
        anyhow::bail!("{subject}: {}", String::from_utf8_lossy(&reply.payload));
    }
    Ok(reply.payload)
}
