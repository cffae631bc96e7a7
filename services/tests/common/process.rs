//! An `edgefleet` child process in its own process group, logging to a file, killed on drop.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Sends SIGKILL to one process.
pub fn kill9(pid: u32) {
    let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
}

/// A spawned `edgefleet` process.
pub struct EdgefleetProcess {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl EdgefleetProcess {
    /// Runs `edgefleet ARGS` with `env`, output appended to `dir/<name>.log`.
    pub fn spawn(name: &str, dir: &Path, args: &[String], env: &[(&str, String)]) -> Self {
        let log = dir.join(format!("{name}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_edgefleet"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env(
                "RUST_LOG",
                std::env::var("EDGEFLEET_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .expect("edgefleet spawns");
        Self {
            name: name.to_string(),
            child,
            log,
        }
    }

    /// SIGKILL to the whole process group (the process and its nats-server), and reap.
    pub fn kill9_group(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait: the clean shutdown path.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("process exits")
    }

    /// The process's log so far (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for EdgefleetProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill9_group();
        }
    }
}
