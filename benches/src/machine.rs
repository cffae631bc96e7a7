//! Facts about the machine a run measured, printed above the figures so they can be compared across machines.

use std::path::PathBuf;
use std::process::Command;

/// What the figures depend on.
pub struct MachineFacts {
    /// Logical CPUs this process may use (what `nproc` prints).
    pub cpus: usize,
    /// CPU model name from `/proc/cpuinfo`, if readable.
    pub cpu_model: Option<String>,
    /// Physical memory from `/proc/meminfo`, if readable.
    pub memory_bytes: Option<u64>,
    /// The nats-server testkit will start, and the version it reports (or why not).
    pub nats_server: Result<(PathBuf, String), String>,
}

impl MachineFacts {
    /// Reads the facts of this machine.
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: field(&cpuinfo, "model name").map(str::to_string),
            memory_bytes: field(&meminfo, "MemTotal")
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kib| kib * 1024),
            nats_server: nats_server_version(),
        }
    }

    /// One line per fact.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "machine: nproc {}, {}, {}",
            self.cpus,
            self.cpu_model.as_deref().unwrap_or("unknown CPU"),
            self.memory_bytes.map_or("unknown memory".to_string(), |b| format!(
                "{:.1} GiB RAM",
                b as f64 / f64::from(1u32 << 30)
            ))
        )];
        lines.push(match &self.nats_server {
            Ok((path, version)) => format!("nats-server: {version} ({})", path.display()),
            Err(why) => format!("nats-server: {why}"),
        });
        lines
    }
}

/// The value of the first `name: value` line of a `/proc` file.
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim())
}

fn nats_server_version() -> Result<(PathBuf, String), String> {
    let path = testkit::find_nats_server().map_err(|e| e.to_string())?;
    let output = Command::new(&path)
        .arg("--version")
        .output()
        .map_err(|e| format!("{} --version failed: {e}", path.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let version = stdout.trim().trim_start_matches("nats-server:").trim().to_string();
    Ok((path, version))
}
