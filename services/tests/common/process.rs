//! An `edgefleet` child process for the tests: the same [`ChildProcess`] the demo uses (own process group, log
//! file, dies with the test, killed with its group on drop), started from the binary under test.

pub use nats_process::ChildProcess as EdgefleetProcess;
use std::path::Path;

/// Sends SIGKILL to one process.
pub fn kill9(pid: u32) {
    // SAFETY: kill(2) touches no memory of ours.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// Runs `edgefleet ARGS` with `env`, output appended to `dir/<name>.log`.
pub fn spawn(name: &str, dir: &Path, args: &[String], env: &[(&str, String)]) -> EdgefleetProcess {
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "RUST_LOG") {
        env.push((
            "RUST_LOG",
            std::env::var("EDGEFLEET_TEST_LOG").unwrap_or_else(|_| "info".into()),
        ));
    }
    EdgefleetProcess::spawn(
        name,
        Path::new(env!("CARGO_BIN_EXE_edgefleet")),
        args,
        &env,
        &dir.join(format!("{name}.log")),
    )
    .expect("edgefleet spawns")
}
