//! The site's whole plan: its nodes (liveness, membership, provisioning, OS reports), its clusters (ready,
//! removed), its clusters' OS updates and the verdicts of rollouts' telemetry gates, from the site's projection and
//! what it observes.

use super::site_command::SiteCommand;
use super::site_observed::SiteObserved;
use super::{site_gates, site_nodes, site_os};
use crate::fleet_state::FleetState;
use crate::maintenance_window::SiteZone;
use crate::site_reconcile::SiteImage;
use events::Token;

/// Everything the site planner looks at.
#[derive(Clone, Debug)]
pub struct SiteInputs<'a> {
    /// This site.
    pub site: &'a Token,
    /// The site's projection: its own stream and its copy of the intents for it and for `all`.
    pub fleet: &'a FleetState,
    /// The cluster definition baked into the site image, if any.
    pub image: Option<&'a SiteImage>,
    /// Agents and runtime, as observed now.
    pub observed: &'a SiteObserved,
    /// Wall time of this plan, ms since the epoch (site clock).
    pub now_unix_ms: u64,
    /// The site's time zone, for maintenance windows.
    pub zone: &'a SiteZone,
    /// A node not heard for this long is silent.
    pub silent_after_ms: u64,
    /// A node not heard for this long is lost: a control-plane member then leaves its cluster for a worker to
    /// take its place.
    pub lost_after_ms: u64,
}

/// Every command the site should carry out now, nodes first, then clusters, then OS updates, then gate verdicts. Empty when the site
/// is settled. Deterministic: the same inputs give the same plan.
pub fn plan_site(inputs: &SiteInputs<'_>) -> Vec<SiteCommand> {
    let mut commands = site_nodes::plan_nodes(inputs);
    commands.extend(site_nodes::plan_clusters(inputs));
    commands.extend(site_os::plan_os_updates(inputs));
    commands.extend(site_gates::plan_gates(inputs));
    commands
}
