//! Test support: real nats-server processes in operator mode (and plain sites), and waiting with a deadline.
//!
//! Each test binary uses a part of this module, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports)]

mod deadline;
mod nats_child;
mod operator_hub;

pub use deadline::{eventually, DEADLINE};
pub use nats_child::NatsChild;
pub use operator_hub::{connect, connect_with_events, hub_in_temp_dir, write_creds, HubTls, OperatorHub};
