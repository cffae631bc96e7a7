//! [`LanError`]: what can go wrong building or changing a test LAN, each message saying what to do about it.

use std::fmt;
use std::io;
use std::process::ExitStatus;

/// A test LAN could not be built, changed or inspected.
#[derive(thiserror::Error)]
pub enum LanError {
    /// iproute2's `ip` is not installed where it is looked for.
    #[error("`ip` (iproute2) not found in PATH, /usr/sbin, /sbin, /usr/bin or /bin: install iproute2")]
    IpNotFound,
    /// This process may not create network namespaces and interfaces.
    #[error(
        "a test LAN needs root: this process lacks {missing} (namespaces, veths and bridges need both); \
         run the tests as root"
    )]
    NotPrivileged {
        /// The capabilities missing from the effective set, e.g. "CAP_NET_ADMIN and CAP_SYS_ADMIN".
        missing: String,
    },
    /// An `ip` command could not be started.
    #[error("could not run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why it did not start.
        #[source]
        source: io::Error,
    },
    /// An `ip` command ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// How it exited.
        status: ExitStatus,
        /// What it printed on stderr, trimmed.
        stderr: String,
    },
    /// Every /24 of the pool holds an address or route of the root namespace.
    #[error(
        "no free /24 in {pool}: each holds an address or route of this machine (other test LANs count); \
         see `ip -4 addr` and `ip -4 route show table all`"
    )]
    NoFreeSubnet {
        /// The pool searched, e.g. "10.200.0.0/16".
        pool: &'static str,
    },
    /// No LAN name of this process is free (thousands of LANs alive at once).
    #[error("all {tried} LAN names of this process are taken by live bridges: drop some LANs")]
    NoFreeName {
        /// How many names were tried.
        tried: usize,
    },
    /// The LAN's /24 has no address left for another machine.
    #[error("a test LAN holds at most {max} machines (one /24); asked for machine number {asked}")]
    TooManyMachines {
        /// The machine count that was asked for.
        asked: usize,
        /// The most a LAN holds.
        max: usize,
    },
    /// A thread could not enter a machine's network namespace.
    #[error("{what}: {source}")]
    EnterNamespace {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
    /// Processes in a machine's namespace were still there after SIGKILL and a wait.
    #[error("processes {pids:?} in network namespace {netns} still run {waited_ms} ms after SIGKILL")]
    ProcessesSurvived {
        /// The namespace.
        netns: String,
        /// What was still in it.
        pids: Vec<u32>,
        /// How long we waited.
        waited_ms: u64,
    },
}

/// Debug shows the message: a test returning `Result` prints its error with `{:?}`, and "needs root: …" says more
/// there than the variant's fields.
impl fmt::Debug for LanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
