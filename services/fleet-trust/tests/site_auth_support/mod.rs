//! Test support for a site's own nats-server: a real server rendered from [`fleet_trust::SiteServerAuth`] (reloaded,
//! killed and started again on demand), a site fixture with two joined nodes, clients whose server errors are
//! watched, every kind of request a node or the join user makes (with a reply subject of a test's choosing), the
//! site stream and a marker that shows what it stored before, reading an image with direct gets as a
//! node's agent does, and reading what a client published from the server's trace.
//!
//! Each test binary uses a part of this module, hence the `dead_code` allowance.
#![allow(dead_code, unused_imports)]

mod agent_asks;
mod direct_get_reader;
mod image_bucket;
mod responder;
mod server_trace;
mod site_clients;
mod site_fixture;
mod site_server;
mod site_stream;

pub use agent_asks::{
    ask_honestly, ask_with_reply, asks_of_n1, asks_of_the_join_user, Ask, CHUNK_REQUEST, CHUNK_SUBJECT,
    IMAGE_INFO_REQUEST,
};
pub use direct_get_reader::DirectGetReader;
pub use image_bucket::{image_bucket_with, image_bytes, CHUNK_BYTES};
pub use responder::{next_request, requests_before_marker, respond, Received};
pub use server_trace::{published_by, subject_matches};
pub use site_clients::{connect_watched, expect_disconnected, expect_violation, no_violations, Watched};
pub use site_fixture::{SiteFixture, JOIN_PASSWORD, NODES};
pub use site_server::SiteServer;
pub use site_stream::{create_site_stream, store_marker, stored_subjects, wait_until_stored};
