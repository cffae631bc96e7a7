//! What an attacker (or a curious client) sees of the fleet's servers: the INFO line a port sends before anything
//! else, whether an anonymous client gets in, the permission violations the server reports, and the CLI run as
//! another user.

use super::Hub;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The JSON of the `INFO` line a server sends on `port` before anything else.
pub fn info_line(port: u16) -> serde_json::Value {
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("port open");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("INFO line");
    let json = line
        .strip_prefix("INFO ")
        .unwrap_or_else(|| panic!("not an INFO line: {line}"));
    serde_json::from_str(json.trim()).expect("INFO JSON")
}

/// Asserts that `port` announces TLS and authentication.
pub fn assert_tls_and_auth_required(what: &str, port: u16) {
    let info = info_line(port);
    assert_eq!(info["tls_required"], true, "{what} announces TLS: {info}");
    assert_eq!(info["auth_required"], true, "{what} announces authentication: {info}");
}

/// Connects without credentials (trusting `ca`); the error kind if refused.
pub async fn anonymous(url: &str, ca: &Path) -> Result<async_nats::Client, async_nats::ConnectErrorKind> {
    async_nats::ConnectOptions::new()
        .add_root_certificates(ca.to_path_buf())
        .require_tls(true)
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| e.kind())
}

/// The permission violations a connection's server reported, in order.
#[derive(Clone, Default)]
pub struct Violations(Arc<Mutex<Vec<String>>>);

impl Violations {
    /// `options` reporting violations here.
    pub fn watch(&self, options: async_nats::ConnectOptions) -> async_nats::ConnectOptions {
        let seen = self.0.clone();
        options.event_callback(move |event| {
            let seen = seen.clone();
            async move {
                if let async_nats::Event::ServerError(async_nats::ServerError::Other(message)) = event {
                    if let Ok(mut seen) = seen.lock() {
                        seen.push(message);
                    }
                }
            }
        })
    }

    /// Waits until a violation naming `subject` was reported; panics after 10 s.
    pub async fn wait_for(&self, subject: &str) -> String {
        let seen = self.0.clone();
        super::eventually(
            &format!("a permissions violation on {subject}"),
            Duration::from_secs(10),
            || {
                let seen = seen.clone();
                async move {
                    let seen = seen.lock().ok()?;
                    seen.iter()
                        .find(|m| m.to_ascii_lowercase().contains("permissions violation") && m.contains(subject))
                        .cloned()
                }
            },
        )
        .await
    }
}

/// Runs `edgefleet ARGS` at `hub` as the user of `creds`.
pub fn cli_as(hub: &Hub, creds: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(args)
        .envs(hub.cli_env())
        .env("EDGEFLEET_CREDS", creds)
        .output()
        .expect("edgefleet runs")
}

/// Issues user `name` with `role` at `hub`; returns the credential file (in `dir`).
pub fn add_user(hub: &Hub, dir: &Path, name: &str, role: &str) -> std::path::PathBuf {
    let creds = dir.join(format!("{name}.creds"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(["users", "add", name, "--role", role, "--out"])
        .arg(&creds)
        .envs(hub.cli_env())
        .output()
        .expect("edgefleet runs");
    assert!(
        out.status.success(),
        "users add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    creds
}
