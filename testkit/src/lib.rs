//! edgefleet test support: real nats-server processes on free ports in temp dirs, given/when/then for aggregates,
//! and deterministic fixture logs.
//!
//! Nothing depends on this crate but tests and benches.

pub mod eventually;
pub mod fixtures;
pub mod free_port;
pub mod given_when_then;
/// A real LAN of network namespaces (the `netns-lan` crate, also used by `edgefleet demo --zero-touch`).
pub use netns_lan as lan;

pub mod nats_binary;
pub mod nats_server;

pub use eventually::{eventually, eventually_with};
pub use given_when_then::{given, Given, When};
pub use nats_binary::{find_nats_server, NatsBinaryError};
pub use nats_process::{running_server_pid, ChildProcess, ClusterRoutes, LinkProxy};
pub use nats_server::{NatsServer, NatsServerBuilder, NatsServerError};
pub use netns_lan::{Lan, LanError, LanMachine};

/// A valid token, for tests (panics on an invalid literal, which is a bug in the test).
pub fn token(s: &str) -> events::Token {
    match events::Token::new(s) {
        Ok(t) => t,
        Err(e) => panic!("test token {s:?}: {e}"),
    }
}
