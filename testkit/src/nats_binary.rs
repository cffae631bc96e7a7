//! Finding the nats-server binary that tests start (`$NATS_SERVER`, `.tools/bin`, `PATH`).
//!
//! Re-exported from the `nats-process` crate, which owns the lookup.

pub use nats_process::{find_nats_server, find_nats_server_in, NatsBinaryError};
