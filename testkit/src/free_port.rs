//! Free TCP ports on 127.0.0.1 for test servers.
//!
//! Re-exported from the `nats-process` crate, which also retries a server start when a port
//! handed out here was taken in the meantime.

pub use nats_process::free_port::{free_port, free_ports};
