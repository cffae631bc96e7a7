//! The site planner as tables: given the site's log and what it observes, when planning, then these commands.

mod plan_support;

use actors::cluster::ClusterCommand;
use actors::maintenance_window::SiteZone;
use actors::node::NodeCommand;
use actors::plan::site_os::os_target;
use actors::plan::{plan_site, ObservedOs, SiteCommand, SiteInputs, SiteObserved};
use actors::rollout::RolloutCommand;
use actors::site_reconcile::SiteImage;
use events::cluster::ClusterEvent;
use events::node::{NodeEvent, NodeRole, RootSlot};
use events::rollout::RolloutEvent;
use events::{Hlc, Scope};
use plan_support::*;
use testkit::fixtures::FixtureLog;
use testkit::token;

const NOW_MS: u64 = 1_783_125_000_000; // Saturday 2026-07-04 00:30 UTC, 02:30 in Berlin
const SILENT_AFTER_MS: u64 = 3_000;
const LOST_AFTER_MS: u64 = 60_000;
const CP: NodeRole = NodeRole::ControlPlane;

fn plan_at(log: &FixtureLog, observed: &SiteObserved, now_unix_ms: u64, zone: &SiteZone) -> Vec<SiteCommand> {
    let fleet = log.fleet();
    let site = site();
    let image = SiteImage {
        cluster: token("main"),
        profile: profile(1),
    };
    plan_site(&SiteInputs {
        site: &site,
        fleet: &fleet,
        image: Some(&image),
        observed,
        now_unix_ms,
        zone,
        silent_after_ms: SILENT_AFTER_MS,
        lost_after_ms: LOST_AFTER_MS,
    })
}

fn plan(log: &FixtureLog, observed: &SiteObserved) -> Vec<SiteCommand> {
    plan_at(log, observed, NOW_MS, &SiteZone::utc())
}

fn node(id: &str, command: NodeCommand) -> SiteCommand {
    SiteCommand::Node {
        node: token(id),
        command,
    }
}

fn cluster(id: &str, command: ClusterCommand) -> SiteCommand {
    SiteCommand::Cluster {
        cluster: token(id),
        command,
    }
}

fn os_reported(version: u32, slot: RootSlot) -> SiteCommand {
    node(
        "n1",
        NodeCommand::ReportOsUpdated {
            version: os_version(version),
            slot,
        },
    )
}

/// n1 alone, running edge@1 (OS of v1), the runtime having installed `installed`.
fn running_n1(installed: u32) -> SiteObserved {
    observed(&[("n1", CP)], &os_version(1), &profile(installed))
}

fn heard(nodes: &[&str]) -> SiteObserved {
    let mut observed = SiteObserved::default();
    for n in nodes {
        observed.nodes.entry(token(n)).or_default().heard_ms_ago = 100;
    }
    observed
}

/// A site-image cluster `main` with `members` ready on edge@1, adopted by the hub (created at generation 1).
fn adopted_cluster(versions: u32, members: &[&str]) -> FixtureLog {
    let mut log = FixtureLog::new();
    publish(&mut log, versions);
    ready_site_image_cluster(&mut log, members);
    log.cluster_created("main", 1, 1);
    log
}

#[test]
fn a_new_node_forms_the_site_image_cluster_step_by_step() {
    let mut log = FixtureLog::new();
    register(&mut log, "n1", 1);
    let join = ClusterCommand::Join {
        node: token("n1"),
        role: None,
        site_image_profile: Some(profile(1)),
    };
    assert_eq!(
        plan(&log, &heard(&["n1"])),
        vec![cluster("main", join)],
        "the cluster decides the role first"
    );
    log.cluster_observed("main", formed(1, 0))
        .cluster_observed("main", member_joined("n1", CP));
    let node_join = NodeCommand::Join {
        cluster: token("main"),
        role: CP,
    };
    assert_eq!(
        plan(&log, &heard(&["n1"])),
        vec![node("n1", node_join)],
        "then the node takes the role the cluster gave it (a crash in between plans the same again)"
    );
    log.node_observed("n1", joined_main(CP));
    let provision = SiteCommand::Provision {
        node: token("n1"),
        cluster: token("main"),
        role: CP,
        profile: profile(1),
    };
    assert_eq!(
        plan(&log, &heard(&["n1"])),
        vec![node("n1", NodeCommand::ReportProvisioning), provision]
    );
    log.node_observed("n1", NodeEvent::Provisioning { observed_generation: 0 });
    assert_eq!(
        plan(&log, &running_n1(1)),
        vec![os_reported(1, RootSlot::A), node("n1", NodeCommand::ReportReady)],
        "the agent's OS becomes a fact; it applied its membership, so the node is ready"
    );
    log.node_observed("n1", NodeEvent::Ready { observed_generation: 0 })
        .node_observed("n1", os_updated(1, "ROOT-A"));
    assert_eq!(
        plan(&log, &running_n1(1)),
        vec![cluster("main", ClusterCommand::ReportReady { profile: profile(1) })],
        "the cluster is ready on what the runtime installed"
    );
}

/// Defect 4: the profile the runtime installed is what runs, even when the hub asked for another meanwhile; the
/// OS update to the new one then starts.
#[test]
fn a_cluster_is_reported_ready_on_what_runs_while_a_change_is_pending() {
    let mut forming = FixtureLog::new();
    publish(&mut forming, 2);
    forming.cluster_created("main", 1, 1);
    register(&mut forming, "n1", 1);
    forming
        .cluster_observed("main", formed(1, 1))
        .cluster_observed("main", member_joined("n1", CP))
        .node_observed("n1", joined_main(CP))
        .node_observed("n1", NodeEvent::Ready { observed_generation: 0 })
        .node_observed("n1", os_updated(1, "ROOT-A"))
        .profile_changed("main", 2, 2);
    let commands = plan(&forming, &running_n1(1));
    assert!(
        commands.contains(&cluster("main", ClusterCommand::ReportReady { profile: profile(1) })),
        "{commands:?}"
    );
    assert!(
        commands.contains(&node("n1", NodeCommand::ReportOsUpdateStarted(os_version(2)))),
        "the pending change is carried out: {commands:?}"
    );
}

/// Defect 1: labels are the hub's metadata; a labelled node of a site-image cluster stays where it is.
#[test]
fn labelling_a_node_never_moves_it() {
    let mut log = FixtureLog::new();
    publish(&mut log, 1);
    ready_site_image_cluster(&mut log, &["n1", "n2"]);
    log.node_intent("n1", rack_label(1));
    let running = observed(&[("n1", CP), ("n2", NodeRole::Worker)], &os_version(1), &profile(1));
    assert_eq!(plan(&log, &running), vec![], "nothing to do: no NodeLeft, no rejoin");
}

#[test]
fn silence_and_return_are_transitions() {
    let mut log = FixtureLog::new();
    publish(&mut log, 1);
    ready_site_image_cluster(&mut log, &["n1"]);
    let mut running = running_n1(1);
    running.nodes.get_mut(&token("n1")).expect("n1").heard_ms_ago = 5_000;
    let last_seen = Hlc {
        physical_ms: NOW_MS - 5_000,
        logical: 0,
    };
    assert_eq!(
        plan(&log, &running),
        vec![node("n1", NodeCommand::MarkSilent { last_seen })]
    );
    log.node_observed(
        "n1",
        NodeEvent::WentSilent {
            last_seen: Hlc::default(),
        },
    );
    running.nodes.get_mut(&token("n1")).expect("n1").heard_ms_ago = 200;
    assert_eq!(plan(&log, &running), vec![node("n1", NodeCommand::MarkBack)]);
}

/// Defect 5: a deleted cluster is left by every member (site-image members included), removed, and acknowledged
/// at the deletion's generation; its nodes do not join it again.
#[test]
fn a_deleted_site_image_cluster_is_emptied_removed_and_acknowledged() {
    let mut log = adopted_cluster(1, &["n1"]);
    log.cluster_deleted("main", 2);
    let running = running_n1(1);
    assert_eq!(
        plan(&log, &running),
        vec![cluster("main", ClusterCommand::Leave(token("n1")))]
    );
    log.cluster_observed("main", ClusterEvent::MemberLeft { node: token("n1") });
    assert_eq!(
        plan(&log, &running),
        vec![
            SiteCommand::Uninstall { node: token("n1") },
            cluster("main", ClusterCommand::ConfirmRemoved)
        ]
    );
    let mut uninstalled = running.clone();
    uninstalled.nodes.get_mut(&token("n1")).expect("n1").provisioned = None;
    log.cluster_observed("main", ClusterEvent::Removed { observed_generation: 2 });
    assert_eq!(plan(&log, &uninstalled), vec![node("n1", NodeCommand::Leave)]);
    log.node_observed("n1", NodeEvent::Left { observed_generation: 0 });
    assert_eq!(
        plan(&log, &uninstalled),
        vec![],
        "removed, acknowledged, and nobody rejoins it"
    );
}

/// Defect 3: the image a node is updating to is in the log, so a restarted site hands it out again.
#[test]
fn an_os_update_is_started_one_node_at_a_time_and_its_image_is_derivable() {
    let mut log = adopted_cluster(2, &["n1", "n2"]);
    log.profile_changed("main", 2, 2);
    let mut running = observed(&[("n1", CP), ("n2", NodeRole::Worker)], &os_version(1), &profile(1));
    assert_eq!(
        plan(&log, &running),
        vec![node("n1", NodeCommand::ReportOsUpdateStarted(os_version(2)))],
        "control plane first, one at a time"
    );
    log.node_observed(
        "n1",
        NodeEvent::OsUpdateStarted {
            from_version: Some(os_version(1)),
            to_version: os_version(2),
        },
    );
    let image = os_target(&log.fleet(), &site(), &token("n1")).expect("the target is derivable from the log");
    assert_eq!(image.version, os_version(2));
    assert_eq!(image.sha256, format!("{:064x}", 2));
    assert_eq!(os_target(&log.fleet(), &site(), &token("n2")), None);
    assert_eq!(plan(&log, &running), vec![], "wait for n1");
    running.nodes.get_mut(&token("n1")).expect("n1").os = Some(ObservedOs {
        version: Some(os_version(2)),
        slot: Some(RootSlot::B),
        failure: None,
    });
    assert_eq!(plan(&log, &running), vec![os_reported(2, RootSlot::B)]);
}

/// A site-image cluster adopted by the hub, rollout r1 to edge@2 in `window` released, and the cluster moved.
fn windowed_rollout(window: &str) -> FixtureLog {
    let mut log = adopted_cluster(2, &["n1"]);
    let all = rollout_ref(Scope::All, "r1");
    log.hub(
        &all,
        RolloutEvent::Created {
            generation: 1,
            profile: profile(2),
            selector: Default::default(),
            waves: vec![events::rollout::WaveSpec::Percent(100)],
            failure_budget: 0,
            window: Some(window.into()),
            skip_after_s: 3600,
            plan: vec![vec![target("main")]],
            created_unix_s: 0,
        },
        "ops",
    )
    .hub(
        &all,
        RolloutEvent::WaveReleased {
            generation: 2,
            wave: 0,
            released_unix_s: 0,
        },
        "rollout",
    )
    .profile_changed("main", 2, 2);
    log
}

/// Maintenance windows are read in the site's own time zone.
#[test]
fn a_rollout_starts_nodes_only_inside_its_window_in_site_local_time() {
    let log = windowed_rollout("Sat 02:00-05:00");
    let running = running_n1(1);
    let berlin = SiteZone::new("Europe/Berlin").expect("zone");
    let started = vec![
        SiteCommand::Rollout {
            rollout: token("r1"),
            command: RolloutCommand::ReportStarted {
                cluster: target("main"),
            },
        },
        node("n1", NodeCommand::ReportOsUpdateStarted(os_version(2))),
    ];
    assert_eq!(
        plan_at(&log, &running, NOW_MS, &berlin),
        started,
        "02:30 in Berlin: open"
    );
    assert_eq!(
        plan_at(&log, &running, NOW_MS, &SiteZone::utc()),
        vec![],
        "00:30 in UTC: closed"
    );
    let four_hours_later = NOW_MS + 4 * 3_600_000;
    assert_eq!(
        plan_at(&log, &running, four_hours_later, &berlin),
        vec![],
        "06:30 in Berlin: closed"
    );
}

#[test]
fn a_cluster_whose_nodes_all_run_the_target_is_upgraded_then_reported() {
    let mut log = windowed_rollout("daily 00:00-24:00");
    let started = RolloutEvent::ClusterUpdateStarted {
        cluster: target("main"),
        observed_generation: 2,
    };
    log.site(&rollout_ref(Scope::Site(site()), "r1"), started, "controller")
        .node_observed("n1", os_updated(2, "ROOT-B"));
    let mut running = observed(&[("n1", CP)], &os_version(2), &profile(1));
    running.nodes.get_mut(&token("n1")).expect("n1").os = Some(ObservedOs {
        version: Some(os_version(2)),
        slot: Some(RootSlot::B),
        failure: None,
    });
    let upgrade = SiteCommand::UpgradeCluster {
        cluster: token("main"),
        members: vec![(token("n1"), CP)],
        profile: profile(2),
    };
    assert_eq!(plan(&log, &running), vec![upgrade]);
    log.cluster_observed("main", cluster_ready(2, 2));
    let updated = SiteCommand::Rollout {
        rollout: token("r1"),
        command: RolloutCommand::ReportUpdated {
            cluster: target("main"),
            profile: profile(2),
        },
    };
    assert_eq!(plan(&log, &running), vec![updated]);
}

/// The site image's cluster on n1..n4, n1..n3 its control plane and n4 a worker, every node heard.
fn ha_cluster_of_four() -> (FixtureLog, SiteObserved) {
    let mut log = FixtureLog::new();
    publish(&mut log, 1);
    ready_site_image_cluster(&mut log, &["n1", "n2", "n3", "n4"]);
    log.cluster_observed("main", ClusterEvent::MemberPromoted { node: token("n2") })
        .cluster_observed("main", ClusterEvent::MemberPromoted { node: token("n3") })
        .node_observed("n2", NodeEvent::RolePromoted { role: CP })
        .node_observed("n3", NodeEvent::RolePromoted { role: CP });
    let roles = [("n1", CP), ("n2", CP), ("n3", CP), ("n4", NodeRole::Worker)];
    let seen = observed(&roles, &os_version(1), &profile(1));
    (log, seen)
}

/// Issue 13: a reset completes only once the node confirms it wiped its membership; unconfirmed, it stays
/// resetting (visible), however long the node is away.
#[test]
fn a_reset_completes_only_once_the_node_confirms_it() {
    let (mut log, mut seen) = ha_cluster_of_four();
    log.node_intent("n4", NodeEvent::ResetRequested { generation: 1 });
    // Given n4 reset by the hub: it leaves the cluster, then comes off the runtime.
    assert_eq!(
        plan(&log, &seen),
        vec![cluster("main", ClusterCommand::Leave(token("n4")))]
    );
    log.cluster_observed("main", ClusterEvent::MemberLeft { node: token("n4") });
    assert_eq!(plan(&log, &seen), vec![SiteCommand::Uninstall { node: token("n4") }]);
    let n4 = seen.nodes.get_mut(&token("n4")).expect("n4");
    n4.provisioned = None;
    // When the agent has not confirmed (it has not heard, or is away): nothing more, the node stays resetting.
    assert_eq!(plan(&log, &seen), vec![], "an unconfirmed reset is not completed");
    // A confirmation of an earlier reset does not count.
    seen.nodes.get_mut(&token("n4")).expect("n4").reset_done = Some(0);
    assert_eq!(plan(&log, &seen), vec![]);
    // Then, confirmed for this reset, it completes.
    seen.nodes.get_mut(&token("n4")).expect("n4").reset_done = Some(1);
    assert_eq!(plan(&log, &seen), vec![node("n4", NodeCommand::CompleteReset)]);
}

/// Issue 13: a controller that hears no node at all (it just took over, or its agents cannot reach it) takes
/// nobody for lost: it would otherwise empty the cluster.
#[test]
fn a_controller_that_hears_nobody_takes_nobody_for_lost() {
    let (mut log, mut seen) = ha_cluster_of_four();
    for id in ["n1", "n2", "n3", "n4"] {
        log.node_observed(
            id,
            NodeEvent::WentSilent {
                last_seen: Hlc::default(),
            },
        );
        seen.nodes.get_mut(&token(id)).expect("node").heard_ms_ago = LOST_AFTER_MS;
    }
    assert_eq!(
        plan(&log, &seen),
        vec![],
        "every node silent past lost-after, none heard: nobody leaves"
    );
}

/// Issue 13: a control-plane machine lost for good is replaced by a worker, and comes back as a worker.
#[test]
fn a_control_plane_node_lost_past_lost_after_leaves_for_a_worker_and_comes_back_as_one() {
    let (mut log, mut seen) = ha_cluster_of_four();
    log.node_observed(
        "n1",
        NodeEvent::WentSilent {
            last_seen: Hlc::default(),
        },
    );

    // Given n1 silent, but not yet for LOST_AFTER_MS: nothing moves.
    seen.nodes.get_mut(&token("n1")).expect("n1").heard_ms_ago = LOST_AFTER_MS - 1;
    assert_eq!(plan(&log, &seen), vec![]);

    // When it has been silent that long, it leaves the cluster first (the cluster promotes a worker in the same
    // decision), then comes off the runtime, then off the node.
    seen.nodes.get_mut(&token("n1")).expect("n1").heard_ms_ago = LOST_AFTER_MS;
    assert_eq!(
        plan(&log, &seen),
        vec![cluster("main", ClusterCommand::Leave(token("n1")))]
    );
    log.cluster_observed("main", ClusterEvent::MemberLeft { node: token("n1") })
        .cluster_observed("main", ClusterEvent::MemberPromoted { node: token("n4") });
    let n1 = seen.nodes.get_mut(&token("n1")).expect("n1");
    n1.provisioned = None;
    n1.applied = None;
    assert_eq!(
        plan(&log, &seen),
        vec![node("n1", NodeCommand::Leave), node("n4", NodeCommand::Promote)],
        "the lost node leaves; the promotion the cluster decided is carried to n4"
    );
    log.node_observed("n1", NodeEvent::Left { observed_generation: 0 })
        .node_observed("n4", NodeEvent::RolePromoted { role: CP });
    assert_eq!(
        plan(&log, &seen),
        vec![
            node("n4", NodeCommand::ReportProvisioning),
            SiteCommand::Provision {
                node: token("n4"),
                cluster: token("main"),
                role: CP,
                profile: profile(1),
            }
        ],
        "n4 is installed as a control-plane member; the lost node joins nothing while lost"
    );
    log.node_observed("n4", NodeEvent::Provisioning { observed_generation: 0 })
        .node_observed("n4", NodeEvent::Ready { observed_generation: 0 });
    let now_cp = observed(&[("n4", CP)], &os_version(1), &profile(1));
    seen.nodes.insert(token("n4"), now_cp.node(&token("n4")));
    assert_eq!(
        plan(&log, &seen),
        vec![],
        "settled: n2, n3, n4 control plane; n1 out while lost"
    );

    // Then back, it joins like a new node: the cluster gives it the worker role.
    seen.nodes.get_mut(&token("n1")).expect("n1").heard_ms_ago = 100;
    let rejoin = ClusterCommand::Join {
        node: token("n1"),
        role: None,
        site_image_profile: Some(profile(1)),
    };
    assert_eq!(
        plan(&log, &seen),
        vec![node("n1", NodeCommand::MarkBack), cluster("main", rejoin)]
    );
}

/// Apps placed on a ready cluster are installed, also while the hub is away (the site holds its intent copy); once
/// reported installed, nothing more.
#[test]
fn a_ready_cluster_installs_the_apps_its_placements_give_it_and_then_rests() {
    let pos: events::app::AppRef = "pos@1".parse().expect("app ref");
    let apps = std::collections::BTreeMap::from([(token("pos"), pos.clone())]);
    let mut log = adopted_cluster(1, &["n1"]);
    log.hub(
        &cluster_ref("main"),
        ClusterEvent::AppsSet {
            generation: 2,
            apps: apps.clone(),
        },
        "placement",
    );
    let install = SiteCommand::InstallApps {
        cluster: token("main"),
        members: vec![(token("n1"), CP)],
        apps: apps.clone(),
    };
    assert!(plan(&log, &running_n1(1)).contains(&install));

    log.cluster_observed(
        "main",
        ClusterEvent::AppsReported {
            installed: apps,
            failures: Default::default(),
        },
    );
    let commands = plan(&log, &running_n1(1));
    assert!(
        !commands.iter().any(|c| matches!(c, SiteCommand::InstallApps { .. })),
        "{commands:?}"
    );
}
