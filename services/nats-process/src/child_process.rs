//! [`ChildProcess`]: a long-running child (an `edgefleet hub`, `site` or `agent` in the demo and the tests) in its
//! own process group, its output appended to a log file, tied to its parent's life ([`crate::die_with_parent`]),
//! stopped with SIGTERM (then SIGKILL) or killed with its whole group, and never left behind: dropping it kills
//! the group. Knows nothing of what the child is.

use crate::parent_lifeline::die_with_parent;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long [`ChildProcess::stop`] waits after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A spawned child process.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ChildProcess {
    /// Runs `program ARGS` with `env`, in its own process group, output appended to `log`.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(&str, String)],
        log: &Path,
    ) -> std::io::Result<Self> {
        let mut command = Command::new(program);
        command.args(args).envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        Self::spawn_command(name, command, log)
    }

    /// Runs a prepared `command` (e.g. one entering a network namespace first) the same way: its own process
    /// group, tied to this process's life, output appended to `log`.
    pub fn spawn_command(name: &str, mut command: Command, log: &Path) -> std::io::Result<Self> {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        command.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        die_with_parent(&mut command);
        let child = command.spawn()?;
        Ok(Self {
            name: name.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// Its name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its process id (also its process group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Its log so far (for failure messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// True while it runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, wait up to 10 s (it stops its own children), then SIGKILL to the whole group; reaped either way.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if !self.is_running() {
            return self.child.try_wait().ok().flatten();
        }
        signal(self.child.id() as i32, libc::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        tracing::warn!(process = %self.name, "did not stop within 10 s of SIGTERM; killing its group");
        self.kill_group();
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL to the whole process group (the process and everything it started), then reap — a power cut.
    pub fn kill_group(&mut self) {
        signal(-(self.child.id() as i32), libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// Sends `signal` to the process alone.
    pub fn signal(&self, signal_number: i32) {
        signal(self.child.id() as i32, signal_number);
    }

    /// Waits for it to exit.
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait()
    }
}

fn signal(pid: i32, signal_number: i32) {
    // SAFETY: kill(2) touches no memory of ours; `pid` names our own child (or its group) until we reap it.
    unsafe {
        libc::kill(pid, signal_number);
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.is_running() {
            self.kill_group();
        }
    }
}
