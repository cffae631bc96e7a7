//! The hub API's types, shared by the hub (which answers) and the CLI (which asks): endpoints, typed requests
//! (ids are `Token`s, roles `NodeRole`s, profiles `ProfileRef`s — checked while deserializing), reply views, and
//! the error body. One definition, so the two sides cannot drift apart.

pub mod as_text;
pub mod config_api;
pub mod dashboard_link;
pub mod endpoints;
pub mod error;
pub mod fleet_access;
pub mod history;
pub mod node_samples;
pub mod placement_api;
pub mod requests;
pub mod views;

pub use endpoints::{endpoint_subject, ENDPOINTS};
pub use error::ApiError;
