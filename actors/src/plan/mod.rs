//! Planners: what a process does next, as pure functions of its projection and what it observes outside the log
//! (DESIGN §10; brupop's `determine_next_step`, applied to a whole process).
//!
//! Each planner returns commands; a thin loop in the process executes them through the aggregate actors (and the
//! cluster runtime) and plans again once the projection shows the result. Nothing a planner needs survives only in
//! memory: what the log holds is in the projection, and what the process observes (agent heartbeats, the runtime's
//! installs, site beacons) is passed in each time. A crash between two commands of one plan is resumed by planning
//! again from the log, never by remembering.
//!
//! Must never: do I/O, read a clock, or keep state between calls.

pub mod cluster_join;
pub mod hub;
pub mod hub_config;
pub mod hub_placements;
pub mod site;
pub mod site_command;
pub mod site_discovery;
pub mod site_gates;
pub mod site_nats_shape;
pub mod site_nodes;
pub mod site_observed;
pub mod site_os;

pub use cluster_join::{plan_cluster_join, ClusterJoin, MemberSeen};
pub use hub::{plan_hub, HubCommand, HubInputs};
pub use site::{plan_site, SiteInputs};
pub use site_command::SiteCommand;
pub use site_discovery::{plan_discovery, DiscoveryInputs, DiscoveryStep, HeardMachine, MachineIntent};
pub use site_gates::{gates_due, DueGate};
pub use site_nats_shape::{plan_nats_shape, NatsPeer, NatsShapeInputs, NatsShapeStep, NatsStream};
pub use site_observed::{ObservedNode, ObservedOs, Provisioned, SiteObserved};
