//! The site's planner loop: `actors::plan::plan_site` over the site's projection, what it observes of its agents
//! and runtime and what its telemetry says of the rollout gates due, the site image, its time zone and the clock —
//! carried out by the [`SiteExecutor`]. Runs with or
//! without the hub; a site killed at any point resumes by planning again from its log.

use super::cluster_runtime::ClusterRuntime;
use super::executor::SiteExecutor;
use super::gate_samples::GateSamples;
use super::observer::SiteObserver;
use actors::maintenance_window::SiteZone;
use actors::plan::{gates_due, plan_site, SiteInputs};
use actors::site_reconcile::SiteImage;
use events::Token;
use replay::Projection;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tracing::Instrument;

/// Plans at least this often (silence is due by the clock, not by an event).
const TICK: Duration = Duration::from_secs(1);

/// What the site planner runs with.
pub struct SitePlanner<R: ClusterRuntime> {
    /// This site.
    pub site: Token,
    /// The site image's cluster, if any.
    pub image: Option<SiteImage>,
    /// The site's time zone.
    pub zone: SiteZone,
    /// A node not heard for this long is silent.
    pub silent_after: Duration,
    /// A node not heard for this long is lost (a control-plane member leaves for a worker to take its place).
    pub lost_after: Duration,
    /// The site's projection.
    pub projection: Arc<Projection>,
    /// What the site observes of its agents.
    pub observer: Rc<SiteObserver>,
    /// The runtime.
    pub runtime: Rc<R>,
    /// Carries the plan out.
    pub executor: SiteExecutor<R>,
    /// Judges rollout gates from the site's telemetry.
    pub gates: GateSamples,
}

impl<R: ClusterRuntime> SitePlanner<R> {
    async fn pass(&self) -> Vec<(String, u64)> {
        let due = self.projection.read(|fleet| gates_due(fleet, &self.site));
        let gates = self.gates.verdicts(&due).await;
        let commands = self.projection.read(|fleet| {
            let nodes = fleet.nodes_at(&self.site).map(|(id, _)| id.clone());
            let mut observed = self.observer.snapshot(nodes, self.runtime.as_ref());
            observed.gates = gates;
            plan_site(&SiteInputs {
                site: &self.site,
                fleet,
                image: self.image.as_ref(),
                observed: &observed,
                now_unix_ms: actors::process_clock::system_wall_ms(),
                zone: &self.zone,
                silent_after_ms: self.silent_after.as_millis() as u64,
                lost_after_ms: self.lost_after.as_millis() as u64,
            })
        });
        let mut written = Vec::new();
        for command in commands {
            let span = match command.node() {
                Some(node) => tracing::info_span!("site_plan", site = %self.site, node = %node, step = ?command),
                None => tracing::info_span!("site_plan", site = %self.site, step = ?command),
            };
            written.extend(self.executor.execute(command).instrument(span).await);
        }
        written
    }
}

/// Runs the site planner until aborted; `wake` is notified when an agent reports something new.
pub async fn run<R: ClusterRuntime + 'static>(planner: Rc<SitePlanner<R>>, wake: Arc<Notify>) {
    let projection = planner.projection.clone();
    let pass = || {
        let planner = planner.clone();
        async move { planner.pass().await }
    };
    crate::planner_loop::run(projection, wake, TICK, pass).await;
}
