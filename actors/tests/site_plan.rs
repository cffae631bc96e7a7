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

fn image() -> SiteImage {
    SiteImage {
        cluster: token("main"),
        profile: profile(1),
    }
}

fn plan_at(log: &FixtureLog, observed: &SiteObserved, now_unix_ms: u64, zone: &SiteZone) -> Vec<SiteCommand> {
    let fleet = log.fleet();
    let site = site();
    let image = image();
    plan_site(&SiteInputs {
        site: &site,
        fleet: &fleet,
        image: Some(&image),
        observed,
        now_unix_ms,
        zone,
        silent_after_ms: SILENT_AFTER_MS,
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

fn heard(nodes: &[&str]) -> SiteObserved {
    let mut observed = SiteObserved::default();
    for n in nodes {
        observed.nodes.entry(token(n)).or_default().heard_ms_ago = 100;
    }
    observed
}

#[test]
fn a_new_node_forms_the_site_image_cluster_step_by_step() {
    let mut log = FixtureLog::new();
    register(&mut log, "n1", 1);
    assert_eq!(
        plan(&log, &heard(&["n1"])),
        vec![cluster(
            "main",
            ClusterCommand::Join {
                node: token("n1"),
                role: None,
                site_image_profile: Some(profile(1)),
            }
        )],
        "the cluster decides the role first"
    );
    log.site(
        &cluster_ref("main"),
        ClusterEvent::Formed {
            profile: profile(1),
            observed_generation: 0,
        },
        "controller",
    )
    .site(
        &cluster_ref("main"),
        ClusterEvent::MemberJoined {
            node: token("n1"),
            role: NodeRole::ControlPlane,
        },
        "controller",
    );
    assert_eq!(
        plan(&log, &heard(&["n1"])),
        vec![node(
            "n1",
            NodeCommand::Join {
                cluster: token("main"),
                role: NodeRole::ControlPlane
            }
        )],
        "then the node takes the role the cluster gave it (a crash in between plans the same again)"
    );
    log.site(
        &node_ref("n1"),
        NodeEvent::Joined {
            cluster: token("main"),
            role: NodeRole::ControlPlane,
            observed_generation: 0,
        },
        "controller",
    );
    assert_eq!(
        plan(&log, &heard(&["n1"])),
        vec![
            node("n1", NodeCommand::ReportProvisioning),
            SiteCommand::Provision {
                node: token("n1"),
                cluster: token("main"),
                role: NodeRole::ControlPlane,
                profile: profile(1),
            }
        ]
    );
    log.site(
        &node_ref("n1"),
        NodeEvent::Provisioning { observed_generation: 0 },
        "controller",
    );
    let running = observed(&[("n1", NodeRole::ControlPlane)], &os_version(1), &profile(1));
    assert_eq!(
        plan(&log, &running),
        vec![
            node(
                "n1",
                NodeCommand::ReportOsUpdated {
                    version: os_version(1),
                    slot: RootSlot::A
                }
            ),
            node("n1", NodeCommand::ReportReady)
        ],
        "the agent's OS becomes a fact; it applied its membership, so the node is ready"
    );
    log.site(
        &node_ref("n1"),
        NodeEvent::Ready { observed_generation: 0 },
        "controller",
    )
    .site(
        &node_ref("n1"),
        NodeEvent::OsUpdated {
            version: os_version(1),
            slot: "ROOT-A".into(),
        },
        "controller",
    );
    assert_eq!(
        plan(&log, &running),
        vec![cluster("main", ClusterCommand::ReportReady { profile: profile(1) })],
        "the cluster is ready on what the runtime installed"
    );
}

/// Defect 4: the profile the runtime installed is what runs, even when the hub asked for another meanwhile; the
/// OS update to the new one then starts.
#[test]
fn a_cluster_is_reported_ready_on_what_runs_while_a_change_is_pending() {
    // Formed and every member ready, the ready report not written yet, and a change to @2 arriving first.
    let mut forming = FixtureLog::new();
    publish(&mut forming, 2);
    forming.hub(
        &cluster_ref("main"),
        ClusterEvent::Created {
            generation: 1,
            profile: profile(1),
            overrides: Default::default(),
        },
        "ops",
    );
    register(&mut forming, "n1", 1);
    forming
        .site(
            &cluster_ref("main"),
            ClusterEvent::Formed {
                profile: profile(1),
                observed_generation: 1,
            },
            "controller",
        )
        .site(
            &cluster_ref("main"),
            ClusterEvent::MemberJoined {
                node: token("n1"),
                role: NodeRole::ControlPlane,
            },
            "controller",
        )
        .site(
            &node_ref("n1"),
            NodeEvent::Joined {
                cluster: token("main"),
                role: NodeRole::ControlPlane,
                observed_generation: 0,
            },
            "controller",
        )
        .site(
            &node_ref("n1"),
            NodeEvent::Ready { observed_generation: 0 },
            "controller",
        )
        .site(
            &node_ref("n1"),
            NodeEvent::OsUpdated {
                version: os_version(1),
                slot: "ROOT-A".into(),
            },
            "controller",
        )
        .hub(
            &cluster_ref("main"),
            ClusterEvent::ProfileChanged {
                generation: 2,
                profile: profile(2),
            },
            "ops",
        );
    let running = observed(&[("n1", NodeRole::ControlPlane)], &os_version(1), &profile(1));
    let commands = plan(&forming, &running);
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
    log.hub(
        &node_ref("n1"),
        NodeEvent::LabelsSet {
            generation: 1,
            labels: [("rack".to_string(), "r1".to_string())].into(),
        },
        "ops",
    );
    let running = observed(
        &[("n1", NodeRole::ControlPlane), ("n2", NodeRole::Worker)],
        &os_version(1),
        &profile(1),
    );
    assert_eq!(plan(&log, &running), vec![], "nothing to do: no NodeLeft, no rejoin");
}

#[test]
fn silence_and_return_are_transitions() {
    let mut log = FixtureLog::new();
    publish(&mut log, 1);
    ready_site_image_cluster(&mut log, &["n1"]);
    let mut running = observed(&[("n1", NodeRole::ControlPlane)], &os_version(1), &profile(1));
    running.nodes.get_mut(&token("n1")).expect("n1").heard_ms_ago = 5_000;
    assert_eq!(
        plan(&log, &running),
        vec![node(
            "n1",
            NodeCommand::MarkSilent {
                last_seen: Hlc {
                    physical_ms: NOW_MS - 5_000,
                    logical: 0
                }
            }
        )]
    );
    log.site(
        &node_ref("n1"),
        NodeEvent::WentSilent {
            last_seen: Hlc::default(),
        },
        "controller",
    );
    running.nodes.get_mut(&token("n1")).expect("n1").heard_ms_ago = 200;
    assert_eq!(plan(&log, &running), vec![node("n1", NodeCommand::MarkBack)]);
}

/// Defect 5: a deleted cluster is left by every member (site-image members included), removed, and acknowledged
/// at the deletion's generation; its nodes do not join it again.
#[test]
fn a_deleted_site_image_cluster_is_emptied_removed_and_acknowledged() {
    let mut log = FixtureLog::new();
    publish(&mut log, 1);
    ready_site_image_cluster(&mut log, &["n1"]);
    log.hub(
        &cluster_ref("main"),
        ClusterEvent::Created {
            generation: 1,
            profile: profile(1),
            overrides: Default::default(),
        },
        "ops",
    )
    .hub(&cluster_ref("main"), ClusterEvent::Deleted { generation: 2 }, "ops");
    let running = observed(&[("n1", NodeRole::ControlPlane)], &os_version(1), &profile(1));
    assert_eq!(
        plan(&log, &running),
        vec![cluster("main", ClusterCommand::Leave(token("n1")))]
    );
    log.site(
        &cluster_ref("main"),
        ClusterEvent::MemberLeft { node: token("n1") },
        "controller",
    );
    assert_eq!(
        plan(&log, &running),
        vec![
            SiteCommand::Uninstall { node: token("n1") },
            cluster("main", ClusterCommand::ConfirmRemoved)
        ]
    );
    let mut uninstalled = running.clone();
    uninstalled.nodes.get_mut(&token("n1")).expect("n1").provisioned = None;
    log.site(
        &cluster_ref("main"),
        ClusterEvent::Removed { observed_generation: 2 },
        "controller",
    );
    assert_eq!(plan(&log, &uninstalled), vec![node("n1", NodeCommand::Leave)]);
    log.site(
        &node_ref("n1"),
        NodeEvent::Left { observed_generation: 0 },
        "controller",
    );
    assert_eq!(
        plan(&log, &uninstalled),
        vec![],
        "removed, acknowledged, and nobody rejoins it"
    );
}

/// Defect 3: the image a node is updating to is in the log, so a restarted site hands it out again.
#[test]
fn an_os_update_is_started_one_node_at_a_time_and_its_image_is_derivable() {
    let mut log = FixtureLog::new();
    publish(&mut log, 2);
    ready_site_image_cluster(&mut log, &["n1", "n2"]);
    log.hub(
        &cluster_ref("main"),
        ClusterEvent::Created {
            generation: 1,
            profile: profile(1),
            overrides: Default::default(),
        },
        "ops",
    )
    .hub(
        &cluster_ref("main"),
        ClusterEvent::ProfileChanged {
            generation: 2,
            profile: profile(2),
        },
        "ops",
    );
    let mut running = observed(
        &[("n1", NodeRole::ControlPlane), ("n2", NodeRole::Worker)],
        &os_version(1),
        &profile(1),
    );
    assert_eq!(
        plan(&log, &running),
        vec![node("n1", NodeCommand::ReportOsUpdateStarted(os_version(2)))],
        "control plane first, one at a time"
    );
    log.site(
        &node_ref("n1"),
        NodeEvent::OsUpdateStarted {
            from_version: Some(os_version(1)),
            to_version: os_version(2),
        },
        "controller",
    );
    let image = os_target(&log.fleet(), &site(), &token("n1")).expect("the target is derivable from the log");
    assert_eq!(
        (image.version.as_str(), image.sha256.as_str()),
        (os_version(2).as_str(), format!("{:064x}", 2).as_str())
    );
    assert_eq!(os_target(&log.fleet(), &site(), &token("n2")), None);
    assert_eq!(plan(&log, &running), vec![], "wait for n1");
    running.nodes.get_mut(&token("n1")).expect("n1").os = Some(ObservedOs {
        version: Some(os_version(2)),
        slot: Some(RootSlot::B),
        failure: None,
    });
    assert_eq!(
        plan(&log, &running),
        vec![node(
            "n1",
            NodeCommand::ReportOsUpdated {
                version: os_version(2),
                slot: RootSlot::B
            }
        )]
    );
}

fn windowed_rollout(log: &mut FixtureLog, window: &str) {
    log.hub(
        &rollout_ref(Scope::All, "r1"),
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
        &rollout_ref(Scope::All, "r1"),
        RolloutEvent::WaveReleased {
            generation: 2,
            wave: 0,
            released_unix_s: 0,
        },
        "rollout",
    );
}

/// Maintenance windows are read in the site's own time zone.
#[test]
fn a_rollout_starts_nodes_only_inside_its_window_in_site_local_time() {
    let mut log = FixtureLog::new();
    publish(&mut log, 2);
    ready_site_image_cluster(&mut log, &["n1"]);
    log.hub(
        &cluster_ref("main"),
        ClusterEvent::Created {
            generation: 1,
            profile: profile(1),
            overrides: Default::default(),
        },
        "ops",
    );
    windowed_rollout(&mut log, "Sat 02:00-05:00");
    log.hub(
        &cluster_ref("main"),
        ClusterEvent::ProfileChanged {
            generation: 2,
            profile: profile(2),
        },
        "rollout",
    );
    let running = observed(&[("n1", NodeRole::ControlPlane)], &os_version(1), &profile(1));
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
    let mut log = FixtureLog::new();
    publish(&mut log, 2);
    ready_site_image_cluster(&mut log, &["n1"]);
    log.hub(
        &cluster_ref("main"),
        ClusterEvent::Created {
            generation: 1,
            profile: profile(1),
            overrides: Default::default(),
        },
        "ops",
    );
    windowed_rollout(&mut log, "daily 00:00-24:00");
    log.hub(
        &cluster_ref("main"),
        ClusterEvent::ProfileChanged {
            generation: 2,
            profile: profile(2),
        },
        "rollout",
    )
    .site(
        &rollout_ref(Scope::Site(site()), "r1"),
        RolloutEvent::ClusterUpdateStarted {
            cluster: target("main"),
            observed_generation: 2,
        },
        "controller",
    )
    .site(
        &node_ref("n1"),
        NodeEvent::OsUpdated {
            version: os_version(2),
            slot: "ROOT-B".into(),
        },
        "controller",
    );
    let mut running = observed(&[("n1", NodeRole::ControlPlane)], &os_version(2), &profile(1));
    running.nodes.get_mut(&token("n1")).expect("n1").os = Some(ObservedOs {
        version: Some(os_version(2)),
        slot: Some(RootSlot::B),
        failure: None,
    });
    assert_eq!(
        plan(&log, &running),
        vec![SiteCommand::UpgradeCluster {
            cluster: token("main"),
            members: vec![(token("n1"), NodeRole::ControlPlane)],
            profile: profile(2),
        }]
    );
    log.site(
        &cluster_ref("main"),
        ClusterEvent::Ready {
            profile: profile(2),
            observed_generation: 2,
        },
        "controller",
    );
    assert_eq!(
        plan(&log, &running),
        vec![SiteCommand::Rollout {
            rollout: token("r1"),
            command: RolloutCommand::ReportUpdated {
                cluster: target("main"),
                profile: profile(2),
            },
        }]
    );
}
