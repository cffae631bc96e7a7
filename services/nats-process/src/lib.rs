//! Start, supervise and stop a real nats-server process: render its `nats.conf`, spawn it, wait
//! until it serves clients and JetStream, notice a crash, restart it on the same ports and store,
//! stop it gracefully (SIGTERM) or kill it (SIGKILL).
//!
//! Used by the product (`edgefleet hub`, `edgefleet site`, the demo) and by testkit for tests.
//! This crate must never leave a process behind (dropping a [`NatsServer`] kills it) and never
//! downloads or installs nats-server: it only finds a binary that is already there.

mod binary;
mod builder;
pub mod child_process;
mod config;
mod error;
pub mod free_port;
pub mod link_proxy;
pub mod parent_lifeline;
mod ready;
mod server;
mod server_dir;
mod server_log;
mod shutdown;

pub use binary::{find_nats_server, find_nats_server_in, NatsBinaryError};
pub use builder::NatsServerBuilder;
pub use child_process::ChildProcess;
pub use error::NatsServerError;
pub use free_port::{free_port, free_ports};
pub use link_proxy::LinkProxy;
pub use parent_lifeline::die_with_parent;
pub use server::NatsServer;
