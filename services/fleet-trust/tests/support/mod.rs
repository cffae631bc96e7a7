//! Test support: real nats-server processes (an operator-mode hub, plain site servers), what they say about
//! themselves, and waiting with a deadline.
//!
//! Each test binary uses a part of this module, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports)]

mod deadline;
mod fleet;
mod leaf_probe;
mod nats_child;
mod operator_hub;
mod server_info;
mod site_server;
pub mod site_streams;

pub use deadline::{eventually, DEADLINE};
pub use fleet::Fleet;
pub use leaf_probe::{assert_leaf_carries_only, probe_until_heard};
pub use nats_child::NatsChild;
pub use operator_hub::{connect, connect_with_events, hub_in_temp_dir, write_creds, HubTls, OperatorHub};
pub use server_info::{first_info, leaf_accounts};
pub use site_server::{SiteServer, SITE_LOCAL_ACCOUNT};
