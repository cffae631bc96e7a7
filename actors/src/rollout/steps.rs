//! What to do next, decided from the state alone (brupop's `determine_next_step`): the hub's next step, and the
//! clusters a site should update or roll back. Pure; the caller passes in time and liveness.

use super::state::{ClusterRolloutStatus, RolloutState};
use crate::maintenance_window::{MaintenanceWindow, Weekday};
use events::rollout::ClusterTarget;
use events::Token;

/// The hub's next step for a rollout. Each maps to one hub command (`Skip` to one per cluster).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubStep {
    /// Nothing to do now: waiting on sites, paused, or not created.
    Idle,
    /// Release this wave: the previous one passed its health gate (wave 0 needs no gate).
    ReleaseWave(u32),
    /// More clusters failed than the budget allows: pause.
    PauseForBudget,
    /// These updated clusters breached the rollout's gate and no pause answered them yet: pause.
    PauseForGate(Vec<ClusterTarget>),
    /// These clusters' sites are offline past the deadline: skip them.
    Skip(Vec<ClusterTarget>),
    /// Every cluster is settled (after an abort: nothing is left to roll back).
    Complete,
}

impl RolloutState {
    /// The hub's next step at `now_unix_s`, given which sites are online. In order: complete; nothing while paused
    /// or aborted; pause for clusters that breached the gate; pause when the budget is spent; skip clusters (pending or updating) of offline sites once
    /// `skip_after_s` passed since their wave's release; release the next wave once every cluster of the current
    /// one is settled — updated, skipped, or failed within the budget (a failure within the budget does not hold
    /// the gate: that is what the budget is for; one more pauses the rollout instead).
    pub fn next_hub_step(&self, now_unix_s: u64, site_online: impl Fn(&Token) -> bool) -> HubStep {
        if !self.created() {
            return HubStep::Idle;
        }
        if self.is_complete() {
            return HubStep::Complete;
        }
        if self.spec.aborted || self.spec.paused.is_some() {
            return HubStep::Idle;
        }
        let breaches = self.unanswered_breaches();
        if !breaches.is_empty() {
            return HubStep::PauseForGate(breaches);
        }
        if self.budget_spent() {
            return HubStep::PauseForBudget;
        }
        let overdue = self.overdue(now_unix_s, site_online);
        if !overdue.is_empty() {
            return HubStep::Skip(overdue);
        }
        match self.current_wave() {
            None => HubStep::ReleaseWave(0),
            Some(wave) if wave + 1 < self.wave_count() && self.wave_settled(wave) => HubStep::ReleaseWave(wave + 1),
            Some(_) => HubStep::Idle,
        }
    }

    /// Pending or updating clusters of released waves whose site is offline and whose deadline has passed.
    fn overdue(&self, now_unix_s: u64, site_online: impl Fn(&Token) -> bool) -> Vec<ClusterTarget> {
        let mut overdue = Vec::new();
        for (wave, released_unix_s) in &self.spec.released_unix_s {
            if now_unix_s < released_unix_s.saturating_add(self.spec.skip_after_s) {
                continue;
            }
            overdue.extend(
                self.wave(*wave)
                    .iter()
                    .filter(|c| !self.cluster_status(c).is_settled() && !site_online(&c.site))
                    .cloned(),
            );
        }
        overdue
    }

    /// Clusters at `site` the site should start updating now: pending clusters of released waves, unless the
    /// rollout is paused, aborted, over its budget or holding for a gate breach no pause answered yet (so a site
    /// cut off from the hub stops at its own breach). The site still waits for its maintenance window
    /// ([`RolloutState::window_open`]).
    pub fn clusters_to_update_at(&self, site: &Token) -> Vec<ClusterTarget> {
        if self.holds_updates() {
            return vec![];
        }
        self.spec
            .released_unix_s
            .keys()
            .flat_map(|wave| self.wave(*wave))
            .filter(|c| c.site == *site && self.cluster_status(c) == ClusterRolloutStatus::Pending)
            .cloned()
            .collect()
    }

    /// True if no cluster may start updating now: not created, aborted, paused, over the budget, or an unanswered
    /// gate breach.
    pub fn holds_updates(&self) -> bool {
        !self.created()
            || self.spec.aborted
            || self.spec.paused.is_some()
            || self.budget_spent()
            || !self.unanswered_breaches().is_empty()
    }

    /// Clusters whose gate the site should evaluate now: updated clusters at `site` without a verdict, of a
    /// rollout with a gate that is not aborted. Each comes with the time its window opened (ms since the epoch).
    pub fn gates_due_at(&self, site: &Token) -> Vec<(ClusterTarget, u64)> {
        if self.spec.gate.is_none() || self.spec.aborted {
            return vec![];
        }
        self.cluster_statuses()
            .filter(|(c, _)| c.site == *site)
            .filter_map(|(c, status)| match status {
                ClusterRolloutStatus::Verifying { since_unix_ms } => Some((c.clone(), since_unix_ms)),
                _ => None,
            })
            .collect()
    }

    /// Clusters at `site` an aborted rollout must roll back: those updating, updated, or failed without the site
    /// reverting them. Empty unless aborted. A skipped cluster whose site updated it anyway is rolled back too.
    pub fn clusters_to_roll_back_at(&self, site: &Token) -> Vec<ClusterTarget> {
        if !self.spec.aborted {
            return vec![];
        }
        self.status
            .clusters
            .iter()
            .filter(|(c, report)| c.site == *site && report.needs_roll_back())
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// True if an update may start on `weekday` at `minute_of_day` (site-local): inside the rollout's window and
    /// the site's own, where set. An unreadable rollout window (never written by `decide`) counts as closed.
    pub fn window_open(&self, site_window: Option<&MaintenanceWindow>, weekday: Weekday, minute_of_day: u16) -> bool {
        let rollout_open = self
            .spec
            .window
            .as_ref()
            .is_none_or(|window| window.contains(weekday, minute_of_day));
        rollout_open && site_window.is_none_or(|w| w.contains(weekday, minute_of_day))
    }
}
