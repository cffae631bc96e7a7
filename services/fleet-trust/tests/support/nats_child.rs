//! A nats-server child process running a given config, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running nats-server.
pub struct NatsChild {
    child: Child,
    log: PathBuf,
}

impl NatsChild {
    /// Writes `config` to `<dir>/<name>.conf` and starts nats-server on it, logging to `<dir>/<name>.log`.
    pub fn spawn(dir: &Path, name: &str, config: &str) -> Self {
        let binary = nats_process::find_nats_server().expect("nats-server binary");
        let config_path = dir.join(format!("{name}.conf"));
        let log = dir.join(format!("{name}.log"));
        std::fs::write(&config_path, config).expect("write config");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config_path)
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        Self { child, log }
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks the server to re-read its config and the files it names (TLS certificates), as SIGHUP does.
    pub fn reload(&self) {
        let binary = nats_process::find_nats_server().expect("nats-server binary");
        let status = Command::new(binary)
            .arg("--signal")
            .arg(format!("reload={}", self.child.id()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run nats-server --signal");
        assert!(status.success(), "nats-server --signal reload failed: {status}");
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for NatsChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
