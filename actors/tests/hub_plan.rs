//! The hub planner as tables: given the hub's log, the sites online and the time, then these intents.

mod plan_support;

use actors::cluster::ClusterCommand;
use actors::node::NodeCommand;
use actors::plan::hub::SKIP_REASON;
use actors::plan::{plan_hub, HubCommand, HubInputs};
use actors::rollout::RolloutCommand;
use events::cluster::ClusterEvent;
use events::node::{NodeEvent, NodeRole};
use events::rollout::{RolloutEvent, WaveSpec};
use events::{AggregateRef, Scope, Token};
use plan_support::*;
use std::collections::BTreeSet;
use testkit::fixtures::FixtureLog;
use testkit::token;

const CREATED_S: u64 = 1_000;

fn other_site() -> Token {
    token("store-2")
}

fn plan(log: &FixtureLog, online: &[Token], now_unix_s: u64) -> Vec<HubCommand> {
    let fleet = log.fleet();
    let online: BTreeSet<Token> = online.iter().cloned().collect();
    plan_hub(&HubInputs {
        fleet: &fleet,
        online: &online,
        offline_for_ms: &Default::default(),
        now_unix_s,
    })
}

fn rollout(command: RolloutCommand) -> HubCommand {
    HubCommand::Rollout {
        rollout: token("r1"),
        command,
    }
}

fn change(site: &Token, cluster: &str, version: u32) -> HubCommand {
    HubCommand::Cluster {
        site: site.clone(),
        cluster: token(cluster),
        command: ClusterCommand::ChangeProfile(profile(version)),
    }
}

/// Two clusters `main` at store-1 and store-2 on edge@1, and rollout r1 to edge@2 in waves of one.
fn fleet_with_rollout() -> FixtureLog {
    let mut log = FixtureLog::new();
    publish(&mut log, 2);
    for site in [site(), other_site()] {
        let created = ClusterEvent::Created {
            generation: 1,
            profile: profile(1),
            overrides: Default::default(),
        };
        log.hub(&AggregateRef::cluster(&site, &token("main")), created, "ops");
    }
    let second = events::rollout::ClusterTarget {
        site: other_site(),
        cluster: token("main"),
    };
    log.hub(
        &rollout_ref(Scope::All, "r1"),
        RolloutEvent::Created {
            generation: 1,
            profile: profile(2),
            selector: Default::default(),
            waves: vec![WaveSpec::Count(1), WaveSpec::Percent(100)],
            failure_budget: 0,
            window: None,
            skip_after_s: 600,
            plan: vec![vec![target("main")], vec![second]],
            created_unix_s: CREATED_S,
        },
        "ops",
    );
    log
}

fn release(log: &mut FixtureLog, wave: u32, generation: u64) {
    log.hub(
        &rollout_ref(Scope::All, "r1"),
        RolloutEvent::WaveReleased {
            generation,
            wave,
            released_unix_s: CREATED_S,
        },
        "rollout",
    );
}

fn site_reports(log: &mut FixtureLog, site: &Token, events: &[RolloutEvent]) {
    for event in events {
        log.site(
            &rollout_ref(Scope::Site(site.clone()), "r1"),
            event.clone(),
            "controller",
        );
    }
}

fn started_main() -> RolloutEvent {
    RolloutEvent::ClusterUpdateStarted {
        cluster: target("main"),
        observed_generation: 2,
    }
}

/// The rollout with its canary wave released and the canary moved to edge@2.
fn canary_released() -> FixtureLog {
    let mut log = fleet_with_rollout();
    release(&mut log, 0, 2);
    log.profile_changed("main", 2, 2);
    log
}

fn both_online() -> [Token; 2] {
    [site(), other_site()]
}

#[test]
fn the_canary_wave_is_released_first() {
    let log = fleet_with_rollout();
    assert_eq!(
        plan(&log, &both_online(), CREATED_S),
        vec![rollout(RolloutCommand::ReleaseWave(0))]
    );
}

/// Defect 2: a hub that crashed between releasing a wave and writing its clusters' new profile writes them on its
/// next plan, and holds the next wave until they settle.
#[test]
fn a_released_wave_whose_profiles_were_never_written_is_resumed() {
    let mut log = fleet_with_rollout();
    release(&mut log, 0, 2);
    assert_eq!(
        plan(&log, &both_online(), CREATED_S + 1),
        vec![change(&site(), "main", 2)]
    );
    log.profile_changed("main", 2, 2);
    assert_eq!(
        plan(&log, &both_online(), CREATED_S + 1),
        vec![],
        "waiting for the canary"
    );
    let updated = RolloutEvent::ClusterUpdated {
        cluster: target("main"),
        profile: profile(2),
    };
    site_reports(&mut log, &site(), &[started_main(), updated]);
    assert_eq!(
        plan(&log, &both_online(), CREATED_S + 1),
        vec![rollout(RolloutCommand::ReleaseWave(1))],
        "the canary passed its gate"
    );
}

#[test]
fn an_abort_moves_every_touched_cluster_back() {
    let mut log = canary_released();
    site_reports(&mut log, &site(), &[started_main()]);
    log.hub(
        &rollout_ref(Scope::All, "r1"),
        RolloutEvent::Aborted { generation: 3 },
        "ops",
    );
    assert_eq!(
        plan(&log, &both_online(), CREATED_S + 5),
        vec![change(&site(), "main", 1)]
    );
    log.profile_changed("main", 3, 1);
    assert_eq!(plan(&log, &both_online(), CREATED_S + 5), vec![], "written once");
}

#[test]
fn clusters_of_sites_offline_past_the_deadline_are_skipped() {
    let log = canary_released();
    assert_eq!(plan(&log, &[other_site()], CREATED_S + 599), vec![], "not yet");
    let skip = RolloutCommand::Skip {
        cluster: target("main"),
        reason: SKIP_REASON.into(),
    };
    assert_eq!(plan(&log, &[other_site()], CREATED_S + 600), vec![rollout(skip)]);
}

#[test]
fn nodes_of_a_deleted_cluster_are_unassigned() {
    let mut log = FixtureLog::new();
    publish(&mut log, 1);
    register(&mut log, "n1", 1);
    let assigned = NodeEvent::Assigned {
        generation: 1,
        cluster: token("c1"),
        role: NodeRole::ControlPlane,
    };
    log.cluster_created("c1", 1, 1).node_intent("n1", assigned);
    assert_eq!(plan(&log, &[site()], CREATED_S), vec![]);
    log.cluster_deleted("c1", 2);
    let unassign = HubCommand::Node {
        site: site(),
        node: token("n1"),
        command: NodeCommand::Unassign,
    };
    assert_eq!(plan(&log, &[site()], CREATED_S), vec![unassign]);
}
