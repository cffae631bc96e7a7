//! Is a freshly spawned nats-server ready? In order: it has written its ports file (proof that
//! this process, not another one that won a free-port race, holds the ports), a client connects,
//! and the local JetStream API answers `$JS.API.INFO` in the expected domain.
//!
//! The probe connects with the server's client options (credentials, CA), and `$JS.API.INFO`
//! is answered in the probe user's account: that account must have JetStream.
//!
//! One probe step at a time: the caller owns the deadline and watches the process. This module
//! never starts, stops or signals a process.

use std::path::PathBuf;
use std::time::Duration;

/// Connect and request timeout of a single probe step.
const PROBE_TIMEOUT_MS: u64 = 1_000;

/// The readiness checks of one process, remembering the client once it has connected.
pub(crate) struct ReadinessProbe {
    ports_dir: PathBuf,
    pid: u32,
    client_url: String,
    domain: Option<String>,
    options: async_nats::ConnectOptions,
    client: Option<async_nats::Client>,
}

impl ReadinessProbe {
    /// Checks for process `pid`, whose ports file appears in `ports_dir`, serving clients at
    /// `client_url` with JetStream in `domain`; connects with `options`.
    pub(crate) fn new(
        ports_dir: PathBuf,
        pid: u32,
        client_url: String,
        domain: Option<String>,
        options: async_nats::ConnectOptions,
    ) -> Self {
        Self {
            ports_dir,
            pid,
            client_url,
            domain,
            options,
            client: None,
        }
    }

    /// One probe step: `Ok` once the server is ready, else what it is still missing.
    pub(crate) async fn step(&mut self) -> Result<(), String> {
        if self.client.is_none() {
            if !self.ports_file_written() {
                return Err("no ports file yet: still starting".to_owned());
            }
            self.client = Some(connect(&self.client_url, self.options.clone()).await?);
        }
        match &self.client {
            Some(client) => jetstream_answers(client, self.domain.as_deref()).await,
            None => Err("not connected".to_owned()),
        }
    }

    /// True once the process has written `<binary>_<pid>.ports` (after binding every port).
    fn ports_file_written(&self) -> bool {
        let suffix = format!("_{}.ports", self.pid);
        let Ok(entries) = std::fs::read_dir(&self.ports_dir) else {
            return false;
        };
        entries
            .filter_map(Result::ok)
            .any(|entry| entry.file_name().to_string_lossy().ends_with(&suffix))
    }
}

/// One connection attempt with `options`, a short timeout and no reconnect-on-start.
async fn connect(url: &str, options: async_nats::ConnectOptions) -> Result<async_nats::Client, String> {
    options
        .connection_timeout(Duration::from_millis(PROBE_TIMEOUT_MS))
        .request_timeout(Some(Duration::from_millis(PROBE_TIMEOUT_MS)))
        .connect(url)
        .await
        .map_err(|error| format!("connect to {url}: {error}"))
}

/// Ok if the local JetStream API answers `$JS.API.INFO` without an error, in `domain`.
async fn jetstream_answers(client: &async_nats::Client, domain: Option<&str>) -> Result<(), String> {
    let reply = client
        .request("$JS.API.INFO", "".into())
        .await
        .map_err(|error| format!("$JS.API.INFO request: {error}"))?;
    let info: serde_json::Value =
        serde_json::from_slice(&reply.payload).map_err(|error| format!("$JS.API.INFO reply is not JSON: {error}"))?;
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
