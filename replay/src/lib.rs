//! edgefleet replay: the JetStream event log, rebuilding state from streams, redb snapshots, time travel and
//! `.eflog` export/import.
//!
//! This crate is where the log's bytes meet the aggregates: it implements the `actors` ports ([`JetStreamLog`]
//! for `EventLog`, [`LocalStore`] for `SnapshotStore`) and never decides anything itself.

pub mod append_latency;
pub mod fleet_at;
pub mod history;
pub mod jetstream_log;
pub mod lease;
pub mod local_store;
pub mod log_file;
pub mod message_decoder;
pub mod projection;
pub mod projection_store;
pub mod quarantine;
mod quiet_timer;
pub mod rebuild;
pub mod sourcing;
pub mod stream_homes;
pub mod stream_reader;
pub mod stream_setup;

pub use actors::fleet_state::{AggregateEntry, FleetState};
pub use fleet_at::fleet_at;
pub use history::{history, state_at, At, HistoryEntry, HistoryError};
pub use jetstream_log::JetStreamLog;
pub use local_store::{LocalStore, LocalStoreError};
pub use log_file::{
    export_stream, fold_records, import_records, read_log_file, write_log_file, ImportReport, LogFileError,
};
pub use projection::Projection;
pub use projection_store::restore_projection;
pub use quarantine::{Quarantine, QuarantinedMessage};
pub use rebuild::{rebuild_streams, RebuildError, RebuildReport};
pub use sourcing::{
    ensure_hub_copy_of_site, ensure_site_copy_of_intents, resume_source, source_status, SourceStatus,
    HUB_COPY_DURABILITY, HUB_DOMAIN,
};
pub use stream_homes::StreamHomes;
pub use stream_setup::{
    ensure_intent_stream, ensure_site_stream, StreamPolicy, StreamSetupError, DEFAULT_SITE_MAX_BYTES,
};
