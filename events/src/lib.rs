//! edgefleet events: what happened, as plain data.
//!
//! This crate owns the versioned event envelope, the payload enums of every aggregate kind, the postcard codec and
//! the NATS subject layout. It must never do I/O: no NATS, no disk, no clock reads — callers pass time in.

pub mod aggregate;
pub mod app;
pub mod cluster;
pub mod codec;
pub mod config;
pub mod envelope;
pub mod event_id;
pub mod hlc;
pub mod log_format;
pub mod node;
pub mod origin;
pub mod payload;
pub mod placement;
pub mod profile;
pub mod rollout;
pub mod site;
pub mod subject;
pub mod token;

pub use aggregate::{AggregateKind, AggregateRef, Scope};
pub use codec::{decode, decode_message, encode, encode_decision, DecodeError, SCHEMA_VERSION};
pub use envelope::Envelope;
pub use event_id::EventId;
pub use hlc::{Hlc, HlcClock};
pub use origin::{Origin, Writer};
pub use payload::{Payload, PayloadEvent};
pub use token::{Token, TokenError};
