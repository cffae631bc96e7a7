//! Start, supervise and stop a real nats-server process: render its `nats.conf`, spawn it, wait
//! until it serves clients and JetStream, notice a crash, restart it on the same ports and store,
//! stop it gracefully (SIGTERM) or kill it (SIGKILL). A server may require authentication and
//! speak TLS; its auth config can be replaced while it runs (SIGHUP reload).
//!
//! Used by the product (`edgefleet hub`, `edgefleet site`, the demo) and by testkit for tests.
//! This crate must never leave a process behind (dropping a [`NatsServer`] kills it) and never
//! downloads or installs nats-server: it only finds a binary that is already there.

mod auth_config;
mod binary;
mod builder;
pub mod child_process;
mod client_credentials;
mod client_options;
mod cluster_routes;
mod conf_string;
mod config;
mod error;
pub mod free_port;
mod leaf_remote;
pub mod link_proxy;
pub mod parent_lifeline;
mod ports_file;
mod ready;
mod reload_outcome;
mod server;
mod server_dir;
mod server_log;
mod shutdown;
mod tls_files;

pub use binary::{find_nats_server, find_nats_server_in, NatsBinaryError};
pub use builder::NatsServerBuilder;
pub use child_process::ChildProcess;
pub use client_credentials::ClientCredentials;
pub use cluster_routes::ClusterRoutes;
pub use conf_string::config_string;
pub use error::NatsServerError;
pub use free_port::{free_port, free_ports};
pub use leaf_remote::LeafRemote;
pub use link_proxy::LinkProxy;
pub use parent_lifeline::die_with_parent;
pub use ports_file::running_server_pid;
pub use server::NatsServer;
pub use tls_files::TlsFiles;
