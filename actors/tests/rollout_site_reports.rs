//! Rollout site reports, given / when / then: started, updated, failed, rolled back. The tests decide as site
//! `site-1`'s companion aggregate (testkit's `test_aggregate`), so `site-1` reports its own clusters.

mod rollout_support;

use actors::rollout::{ClusterRolloutStatus, RolloutCommand};
use actors::Rejection;
use events::rollout::{PauseReason, RolloutEvent};
use rollout_support::*;
use testkit::given;

/// Waves: [site-1/a], [site-1/b, site-2/a]; budget 1.
fn created() -> RolloutEvent {
    Creation {
        plan: two_waves(),
        ..Creation::default()
    }
    .event()
}

fn start(site: &str, cluster: &str) -> RolloutCommand {
    RolloutCommand::ReportStarted {
        cluster: target(site, cluster),
    }
}

#[test]
fn a_site_starts_pending_clusters_of_released_waves() {
    let released_canary = [created(), released(0, 10)];
    given(&released_canary)
        .when(start("site-1", "a"))
        .then(&[started("site-1", "a")]);
    given(&then(&released_canary, &[started("site-1", "a")]))
        .when(start("site-1", "a"))
        .then_nothing();
    given(&released_canary)
        .when(start("site-1", "b"))
        .then_rejected(conflict);
    for stop in [paused(3, PauseReason::Operator), aborted(3), skipped(3, "site-1", "a")] {
        given(&then(&released_canary, &[stop]))
            .when(start("site-1", "a"))
            .then_rejected(conflict);
    }
    let failed_canary = then(&released_canary, &[started("site-1", "a"), failed("site-1", "a")]);
    given(&failed_canary).when(start("site-1", "a")).then_rejected(conflict);
}

#[test]
fn a_site_reports_only_its_own_planned_clusters() {
    given::<RolloutEvent>(&[])
        .when(start("site-1", "a"))
        .then_rejected(not_found);
    given(&[created(), released(0, 10)])
        .when(start("site-1", "zz"))
        .then_rejected(not_found);
    given(&[created(), released(0, 10)])
        .when(start("site-2", "a"))
        .then_rejected(|r| matches!(r, Rejection::WrongWriter(_)));
}

#[test]
fn updated_follows_a_start_with_the_rollouts_profile() {
    let done = |version| RolloutCommand::ReportUpdated {
        cluster: target("site-1", "a"),
        profile: profile(version),
    };
    let running = [created(), released(0, 10), started("site-1", "a")];
    given(&[created(), released(0, 10)])
        .when(done(2))
        .then_rejected(conflict);
    let state = given(&running).when(done(2)).then(&[updated("site-1", "a")]);
    assert_eq!(
        state.cluster_status(&target("site-1", "a")),
        ClusterRolloutStatus::Updated
    );
    given(&then(&running, &[updated("site-1", "a")]))
        .when(done(2))
        .then_nothing();
    given(&running).when(done(1)).then_rejected(invalid);
}

#[test]
fn failed_follows_a_start_and_counts_against_the_budget() {
    let fail = |reason: &str, rolled_back| RolloutCommand::ReportFailed {
        cluster: target("site-1", "a"),
        reason: reason.into(),
        rolled_back,
    };
    let running = [created(), released(0, 10), started("site-1", "a")];
    given(&[created(), released(0, 10)])
        .when(fail("boom", true))
        .then_rejected(conflict);
    let state = given(&running)
        .when(fail("health check", true))
        .then(&[failed("site-1", "a")]);
    assert_eq!((state.failures(), state.budget_spent()), (1, false));
    given(&then(&running, &[failed("site-1", "a")]))
        .when(fail("health check", true))
        .then_nothing();
    given(&running).when(fail("", true)).then_rejected(invalid);
    // A failure first reported without the A/B fallback may later report it.
    let not_reverted = RolloutEvent::ClusterUpdateFailed {
        cluster: target("site-1", "a"),
        reason: "health check".into(),
        rolled_back: false,
    };
    given(&then(&running, &[not_reverted]))
        .when(fail("health check", true))
        .then(&[failed("site-1", "a")]);
}

#[test]
fn only_an_aborted_rollout_rolls_clusters_back() {
    let roll_back = |cluster: &str| RolloutCommand::ReportRolledBack {
        cluster: target("site-1", cluster),
    };
    let updated_canary = [
        created(),
        released(0, 10),
        started("site-1", "a"),
        updated("site-1", "a"),
    ];
    given(&updated_canary).when(roll_back("a")).then_rejected(conflict);
    let aborted = then(&updated_canary, &[aborted(3)]);
    let state = given(&aborted).when(roll_back("a")).then(&[rolled_back("site-1", "a")]);
    assert_eq!(
        state.cluster_status(&target("site-1", "a")),
        ClusterRolloutStatus::RolledBack
    );
    assert!(state.is_complete(), "nothing is left to roll back");
    given(&then(&aborted, &[rolled_back("site-1", "a")]))
        .when(roll_back("a"))
        .then_nothing();
    given(&aborted).when(roll_back("b")).then_rejected(conflict);
}
