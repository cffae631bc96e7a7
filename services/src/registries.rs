//! One writer's aggregate registries (the hub's, or one site's), and helpers to dispatch and query through them.

use actix::{Actor, Addr};
use actors::cluster::ClusterState;
use actors::node::NodeState;
use actors::profile::ProfileState;
use actors::site::SiteState;
use actors::{ActorConfig, Aggregate, Dispatch, ExecuteError, Executed, Query, Registry};
use anyhow::Context;
use events::{AggregateRef, Origin};
use replay::{JetStreamLog, LocalStore, Quarantine};
use std::path::Path;

type Reg<A> = Addr<Registry<A, JetStreamLog, LocalStore>>;

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
    /// The writer's log (for its quarantine).
    pub log: JetStreamLog,
}

impl Registries {
    /// Registries writing as `origin`, with a redb snapshot store at `store_path`.
    pub async fn start(client: async_nats::Client, origin: Origin, store_path: &Path) -> anyhow::Result<Self> {
        let store = LocalStore::open(store_path)?;
        let log = JetStreamLog::new(async_nats::jetstream::new(client), Quarantine::persisted(store.clone()));
        let config = ActorConfig {
            clock: process_clock(),
            ..ActorConfig::new(origin.clone())
        };
        Ok(Self {
            nodes: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            clusters: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            sites: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            profiles: Registry::new(log.clone(), store.clone(), config.clone()).start(),
            rollouts: Registry::new(log.clone(), store, config).start(),
            log,
        })
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
        .send(Dispatch {
            aggregate,
            command,
            by: Some(by.to_string()),
        })
        .await
        .map_err(|e| ExecuteError::ActorUnavailable(e.to_string()))?
}

/// Reads an aggregate's state (refreshed from the log).
pub async fn query<A: Aggregate>(registry: &Reg<A>, aggregate: AggregateRef) -> anyhow::Result<A> {
    let (state, _) = registry
        .send(Query::new(aggregate.clone(), true))
        .await
        .context("registry stopped")??;
    Ok(state)
}
