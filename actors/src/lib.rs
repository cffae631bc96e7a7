//! edgefleet aggregates: pure state machines and the actix actors that host them.
//!
//! Each aggregate kind is a plain-data state with `apply` (event → state) and `decide` (command → events or a
//! typed rejection); neither does I/O. [`AggregateActor`] hosts one instance: it loads snapshot + tail through the
//! [`EventLog`] and [`SnapshotStore`] ports, decides, appends with an expected sequence, and applies only what the
//! log acknowledged. This crate never talks to NATS or disk directly — only through those traits.

pub mod aggregate;
pub mod aggregate_actor;
pub mod aggregate_table;
pub mod any_aggregate;
pub mod app;
pub mod cluster;
pub mod cluster_update;
pub mod config;
pub mod event_log;
pub mod fleet_queries;
pub mod fleet_state;
pub mod gate_evaluation;
pub mod labels;
pub mod maintenance_window;
pub mod metric_gate;
pub mod node;
pub mod placement;
pub mod plan;
pub mod process_clock;
pub mod profile;
pub mod registry;
pub mod rejection;
pub mod rollout;
pub mod site;
pub mod site_reconcile;
pub mod snapshot_store;

pub use aggregate::{Aggregate, DecideContext};
pub use aggregate_actor::{ActorConfig, AggregateActor, Execute, ExecuteError, Executed, GetState};
pub use any_aggregate::{AnyAggregate, ApplyError};
pub use event_log::{EventLog, LogError, Positions, Recorded, Tail};
pub use process_clock::ProcessClock;
pub use registry::{Dispatch, GetRegistryStats, Query, Registry, RegistryStats};
pub use rejection::Rejection;
pub use snapshot_store::{NoSnapshots, Snapshot, SnapshotError, SnapshotStore};
