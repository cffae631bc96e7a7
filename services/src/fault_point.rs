//! Fault injection for crash tests: `EDGEFLEET_FAULT=<point>[,<point>…]` makes the process die at once (like
//! `kill -9`: no cleanup, no flush) the first time it reaches a named point. Unset, a fault point does nothing.

/// Dies here if `point` is named in `$EDGEFLEET_FAULT`.
pub fn fault_point(point: &str) {
    let armed = std::env::var("EDGEFLEET_FAULT").unwrap_or_default();
    if armed.split(',').any(|p| p.trim() == point) {
        eprintln!("fault point {point} reached: dying now (EDGEFLEET_FAULT)");
        // SIGKILL ourselves: the closest a test gets to pulling the plug.
        // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}
