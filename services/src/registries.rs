//! One writer's aggregate registries (the hub's, or one site's), and helpers to dispatch and query through them.

use actix::{Actor, Addr};
use actors::cluster::ClusterState;
use actors::node::NodeState;
use actors::profile::ProfileState;
use actors::site::SiteState;
use actors::{ActorConfig, Aggregate, Dispatch, ExecuteError, Executed, Registry};
use events::{AggregateRef, Origin};
use replay::{JetStreamLog, LocalStore, Quarantine, StreamHomes};

/// A registry of one aggregate kind on the process's log and store.
pub type Reg<A> = Addr<Registry<A, JetStreamLog, LocalStore>>;

/// The registries of one writer (hub or one site) in this process.
#[derive(Clone)]
pub struct Registries {
    /// Node actors.
    pub nodes: Reg<NodeState>,
    /// Cluster actors.
    pub clusters: Reg<ClusterState>,
    /// Site actors.
    pub sites: Reg<SiteState>,
    /// Profile actors (written by the hub; read by sites).
    pub profiles: Reg<ProfileState>,
    /// Rollout actors (the hub's plan; each site's progress companion).
    pub rollouts: Reg<actors::rollout::RolloutState>,
    /// App actors (written by the hub; read by sites).
    pub apps: Reg<actors::app::AppState>,
    /// Placement actors (the hub's).
    pub placements: Reg<actors::placement::PlacementState>,
    /// Config actors: the operator's entries and each site's resolved set (hub), what a site holds (site).
    pub configs: Reg<actors::config::ConfigState>,
}

impl Registries {
    /// Registries writing as `origin`, snapshotting into `store` and quarantining into `quarantine` (the process's
    /// one redb store and quarantine, shared with its projection), reading each stream where `homes` says it lives.
    pub fn start(homes: StreamHomes, origin: Origin, store: LocalStore, quarantine: Quarantine) -> Self {
        let log = JetStreamLog::with_homes(homes, quarantine);
        let config = ActorConfig {
            clock: process_clock(),
            ..ActorConfig::new(origin.clone())
        };
        Self {
            nodes: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            clusters: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            sites: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            profiles: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            rollouts: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            apps: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            placements: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            configs: Registry::new(log, store, config).start(),
        }
    }
}

/// The process clock: the system clock, shifted by `EDGEFLEET_CLOCK_OFFSET_MS` (signed) when set — a simulation
/// knob for edge boxes whose clocks drift; event times are hybrid-logical, so a skewed site still orders correctly.
pub fn process_clock() -> actors::ProcessClock {
    match std::env::var("EDGEFLEET_CLOCK_OFFSET_MS")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
    {
        Some(offset_ms) => actors::ProcessClock::with_wall_clock(move || {
            (actors::process_clock::system_wall_ms() as i64)
                .saturating_add(offset_ms)
                .max(0) as u64
        }),
        None => actors::ProcessClock::system(),
    }
}

/// Sends a command to an aggregate through its registry.
pub async fn dispatch<A: Aggregate>(
    registry: &Reg<A>,
    aggregate: AggregateRef,
    command: A::Command,
    by: &str,
) -> Result<Executed<A>, ExecuteError> {
    registry
        .send(Dispatch::new(aggregate, command, Some(by.to_string())))
        .await
        .map_err(|e| ExecuteError::ActorUnavailable(e.to_string()))?
}
