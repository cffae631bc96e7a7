//! No child outlives its parent: a process started through [`die_with_parent`] gets SIGTERM from the kernel the
//! moment the thread that started it dies — whatever ends the parent (a crash, `kill -9`, a closed terminal) —
//! so it stops itself cleanly (a nats-server flushes its store; an edgefleet process stops its own children).
//!
//! Linux's `PR_SET_PDEATHSIG` tracks the parent *thread*: start children from a thread that lives as long as the
//! process (the main thread, or a runtime worker), never from a short-lived blocking-pool thread.

use std::process::Command;

/// Arranges for the command's process to receive SIGTERM when this process dies.
#[cfg(target_os = "linux")]
pub fn die_with_parent(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe calls
    // (prctl, getppid, _exit); it touches no memory shared with the parent.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl; then nobody would ever send the signal.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        })
    }
}

/// Elsewhere there is no parent-death signal; children are stopped explicitly.
#[cfg(not(target_os = "linux"))]
pub fn die_with_parent(command: &mut Command) -> &mut Command {
    command
}
