//! Starting a process inside a machine: the child enters the machine's network namespace between fork and exec,
//! so by the time `spawn` returns it runs there — a power-off or drop right after a spawn cannot miss it (with
//! `ip netns exec` the switch happens later, inside `ip`, and a process could slip into a namespace after it was
//! emptied). Only the network namespace changes: mounts (/sys, /etc/netns) stay the root namespace's.

use std::ffi::CString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Where iproute2 keeps the files of named network namespaces.
const NETNS_RUN_DIR: &str = "/var/run/netns";

/// Makes `command`'s process enter network namespace `netns` before it execs; if that namespace is gone, `spawn`
/// fails with the error of opening its file.
pub(super) fn enter_netns_on_spawn(command: &mut Command, netns: &str) {
    let Ok(path) = CString::new(format!("{NETNS_RUN_DIR}/{netns}")) else {
        unreachable!("LAN namespace names are hex digits and letters, never NUL")
    };
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe system calls
    // (open, setns, close) on memory allocated before the fork; reading errno allocates nothing.
    unsafe {
        command.pre_exec(move || {
            let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            let entered = libc::setns(fd, libc::CLONE_NEWNET);
            let setns_error = io::Error::last_os_error();
            libc::close(fd);
            if entered != 0 {
                return Err(setns_error);
            }
            Ok(())
        });
    }
}

/// Moves the calling thread (only it) into network namespace `netns`: sockets it opens afterwards are the machine's.
pub(super) fn enter_netns_here(netns: &str) -> io::Result<()> {
    let file = std::fs::File::open(format!("{NETNS_RUN_DIR}/{netns}"))?;
    // SAFETY: setns on a file descriptor this function owns for the call; it changes only this thread's namespace.
    let entered = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
    if entered != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
