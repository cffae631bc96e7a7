//! The hub's planner loop: `actors::plan::plan_hub` over the hub's projection, the sites online and the clock,
//! carried out through the hub's actors. Rollouts release waves, write their clusters' new profiles, pause, skip
//! and roll back; deleted clusters lose their nodes — all derived from the log on every pass, so a hub killed at
//! any point resumes by planning again. Of the hubs of a cluster, only the one holding the orchestrator lease plans
//! (`leadership`).

use super::site_directory::SiteDirectory;
use crate::fault_point::fault_point;
use crate::leadership::Leadership;
use crate::registries::{dispatch, Registries};
use actors::plan::{plan_hub, HubCommand, HubInputs};
use actors::rollout::RolloutCommand;
use actors::{ExecuteError, Executed};
use events::{AggregateKind, AggregateRef, Scope};
use replay::Projection;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tracing::Instrument;

/// Plans at least this often (skips are due by the clock, not by an event).
const TICK: Duration = Duration::from_secs(1);

/// Runs the hub planner until aborted; it plans only while this hub holds the orchestrator lease.
pub async fn run(
    projection: Arc<Projection>,
    directory: Rc<SiteDirectory>,
    hub: Registries,
    wake: Arc<Notify>,
    leadership: Rc<Leadership>,
) {
    let pass = || {
        let (projection, directory, hub, leadership) =
            (projection.clone(), directory.clone(), hub.clone(), leadership.clone());
        async move {
            if !leadership.holds() {
                return Vec::new();
            }
            pass(&projection, &directory, &hub).await
        }
    };
    crate::planner_loop::run(projection.clone(), wake, TICK, pass).await;
}

async fn pass(projection: &Projection, directory: &SiteDirectory, hub: &Registries) -> Vec<(String, u64)> {
    let online = directory.online();
    let offline_for_ms = directory.offline_for_ms();
    let now_unix_s = actors::process_clock::system_wall_ms() / 1000;
    let commands = projection.read(|fleet| {
        plan_hub(&HubInputs {
            fleet,
            online: &online,
            offline_for_ms: &offline_for_ms,
            now_unix_s,
        })
    });
    let mut written = Vec::new();
    for command in commands {
        let span = tracing::info_span!("hub_plan", step = ?command);
        match execute(hub, command).instrument(span).await {
            Ok(positions) => written.extend(positions),
            Err(e) => tracing::warn!(error = %e, "hub plan step failed; planning again"),
        }
    }
    written
}

fn positions<A>(done: Executed<A>) -> Vec<(String, u64)> {
    done.positions
}

async fn execute(hub: &Registries, command: HubCommand) -> Result<Vec<(String, u64)>, ExecuteError> {
    match command {
        HubCommand::Rollout { rollout, command } => {
            let release = matches!(command, RolloutCommand::ReleaseWave(_));
            let aggregate = AggregateRef {
                kind: AggregateKind::Rollout,
                scope: Scope::All,
                id: rollout,
            };
            let done = dispatch(&hub.rollouts, aggregate, command, "rollout").await?;
            if release && !done.events.is_empty() {
                tracing::info!("wave released");
                // Fault injection for the crash test: a hub dying between a wave's release and its clusters'
                // new profiles must resume by planning again.
                fault_point("hub-after-wave-release");
            }
            Ok(positions(done))
        }
        HubCommand::Cluster { site, cluster, command } => {
            let aggregate = AggregateRef::cluster(&site, &cluster);
            Ok(positions(dispatch(&hub.clusters, aggregate, command, "rollout").await?))
        }
        HubCommand::Config { aggregate, command } => {
            Ok(positions(dispatch(&hub.configs, aggregate, command, "config").await?))
        }
        HubCommand::Placement { placement, command } => {
            let aggregate = AggregateRef::placement(&placement);
            Ok(positions(
                dispatch(&hub.placements, aggregate, command, "placement").await?,
            ))
        }
        HubCommand::Node { site, node, command } => {
            let aggregate = AggregateRef::node(&site, &node);
            Ok(positions(dispatch(&hub.nodes, aggregate, command, "hub").await?))
        }
    }
}
