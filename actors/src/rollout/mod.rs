//! The rollout aggregate: moving label-selected clusters to a new profile version in waves, with health gates, a
//! failure budget, pause/resume/abort, maintenance windows and skips for sites that stay offline.
//!
//! One rollout is several aggregates of kind `rollout` with the same id (see `events::rollout`):
//! - `rollout/all/<id>`, written by the hub: the plan (`Created`) and the hub's commands — pause, resume, abort,
//!   release a wave, skip a cluster. These change only [`RolloutSpec`].
//! - `rollout/<site>/<id>`, one per site, written by that site: its clusters' progress — started, updated, failed,
//!   rolled back. These change only [`RolloutStatus`], each event only its own cluster's entry.
//!
//! [`RolloutState`] is the fold over the union of those aggregates. Because hub events touch only the spec and
//! each site's events only its own clusters' entries, every interleaving that keeps each origin's order folds to
//! the same state (DESIGN §3; checked by `actors/tests/rollout_convergence.rs`). Deciding a site command therefore
//! needs the hub aggregate's events folded in first (the plan says which clusters exist and which waves are
//! released); a site with only its companion folded gets `NotFound`.
//!
//! A rollout may carry a telemetry gate ([`crate::metric_gate`]): each updated cluster is then `Verifying` until its
//! site records whether every node held the gate's condition for the gate's time (`ClusterGatePassed`) or one did
//! not (`ClusterGateBreached`). A breach holds the site's further updates at once — offline too — and the hub
//! pauses the rollout for it (`PausedForGate`); a resume accepts it.
//!
//! The next step is a pure function of the state: [`RolloutState::next_hub_step`] for the hub,
//! [`RolloutState::clusters_to_update_at`] and [`RolloutState::clusters_to_roll_back_at`] for a site, and
//! [`RolloutState::window_open`] for the maintenance window. This module does no I/O, talks to no actor and reads no
//! clock: time comes from the decision's HLC (stamped into `Created` and `WaveReleased`) or from the caller.

mod decide;
pub mod explain;
mod report;
mod state;
mod steps;

pub use crate::maintenance_window::{parse_window, MaintenanceWindow, SiteZone, Weekday, MINUTES_PER_DAY};
pub use state::{ClusterReport, ClusterRolloutStatus, GateReport, RolloutSpec, RolloutState, RolloutStatus};
pub use steps::HubStep;

use crate::aggregate::{Aggregate, DecideContext};
use crate::metric_gate::MetricGate;
use crate::rejection::Rejection;
use events::cluster::ProfileRef;
use events::rollout::{ClusterTarget, RolloutEvent};
use events::{AggregateKind, Hlc, Writer};
use std::collections::BTreeMap;

/// What can be asked of a rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RolloutCommand {
    /// Hub: create the rollout over `targets` (the clusters the hub found matching `selector`).
    Create {
        /// Profile version to move to.
        profile: ProfileRef,
        /// The label selector, recorded for the operator.
        selector: BTreeMap<String, String>,
        /// Cumulative wave sizes, `1,10%,50%,100%` ([`events::rollout::parse_waves`]).
        waves: String,
        /// Failures tolerated before the rollout pauses; below the number of targets.
        failure_budget: u32,
        /// Maintenance window (`Sat 02:00-05:00`, [`parse_window`]), or `None` for any time.
        window: Option<MaintenanceWindow>,
        /// Seconds after a wave's release before clusters of offline sites in it are skipped (≥ 1).
        skip_after_s: u64,
        /// The telemetry gate each updated cluster must pass before its wave counts as healthy
        /// ([`crate::metric_gate::parse_gate`]), or `None`.
        gate: Option<MetricGate>,
        /// The clusters to update.
        targets: Vec<ClusterTarget>,
    },
    /// Hub: the operator pauses the rollout.
    Pause,
    /// Hub: pause because the failure budget is spent ([`HubStep::PauseForBudget`]).
    PauseForBudget,
    /// Hub: pause because these clusters breached the gate ([`HubStep::PauseForGate`]).
    PauseForGate(Vec<ClusterTarget>),
    /// Hub: the operator resumes a paused rollout, accepting the failures so far.
    Resume,
    /// Hub: the operator aborts; sites roll back what they updated.
    Abort,
    /// Hub: release a wave (0 = the canary) once the previous one is settled.
    ReleaseWave(u32),
    /// Hub: give up on a cluster whose site stayed offline.
    Skip {
        /// The cluster.
        cluster: ClusterTarget,
        /// Why, for the operator.
        reason: String,
    },
    /// Site: the site started updating one of its clusters.
    ReportStarted {
        /// The cluster.
        cluster: ClusterTarget,
    },
    /// Site: the cluster runs the new version and is healthy.
    ReportUpdated {
        /// The cluster.
        cluster: ClusterTarget,
        /// Profile version now running.
        profile: ProfileRef,
    },
    /// Site: the update failed.
    ReportFailed {
        /// The cluster.
        cluster: ClusterTarget,
        /// What went wrong.
        reason: String,
        /// The site already reverted the cluster.
        rolled_back: bool,
    },
    /// Site: after an abort, the cluster is back on its previous version.
    ReportRolledBack {
        /// The cluster.
        cluster: ClusterTarget,
    },
    /// Site: the verdict on an updated cluster's gate.
    ReportGate {
        /// The cluster.
        cluster: ClusterTarget,
        /// Passed or breached.
        verdict: GateReport,
    },
}

impl Aggregate for RolloutState {
    const KIND: AggregateKind = AggregateKind::Rollout;
    const STATE_VERSION: u16 = 3;
    type Event = RolloutEvent;
    type Command = RolloutCommand;

    fn apply(&mut self, event: &RolloutEvent, at: Hlc) {
        self.fold(event, at.physical_ms);
    }

    fn command_writer(command: &RolloutCommand) -> Writer {
        match command {
            RolloutCommand::Create { .. }
            | RolloutCommand::Pause
            | RolloutCommand::PauseForBudget
            | RolloutCommand::PauseForGate(_)
            | RolloutCommand::Resume
            | RolloutCommand::Abort
            | RolloutCommand::ReleaseWave(_)
            | RolloutCommand::Skip { .. } => Writer::Hub,
            RolloutCommand::ReportStarted { .. }
            | RolloutCommand::ReportUpdated { .. }
            | RolloutCommand::ReportFailed { .. }
            | RolloutCommand::ReportRolledBack { .. }
            | RolloutCommand::ReportGate { .. } => Writer::Site,
        }
    }

    fn decide(&self, command: RolloutCommand, ctx: &DecideContext<'_>) -> Result<Vec<RolloutEvent>, Rejection> {
        decide::decide(self, command, ctx)
    }
}
