//! Given a fleet as the API shows it, the first screen counts what needs attention, each count's link lists exactly
//! what it counts, and the pages render as pinned (insta).

use super::attention::{attention, name_of, FleetViews, NodeFilter, RolloutFilter, SiteFilter};
use super::pages::{first_screen, fleet_tables, rollout_pages};
use super::view::View;
use crate::api_types::views::{
    ClusterProgress, CopyHealth, NodeView, QuarantineView, RolloutView, SiteConnection, SiteView, TelemetryDeliveryView,
};
use actors::node::NodeLifecycle;
use actors::rollout::explain::{ExplainStep, RolloutExplanation};
use events::node::{NodeRole, OsUpdateFailure, RootSlot};

const NOW_MS: u64 = 1_800_000_000_000;

fn site(id: &str, connection: SiteConnection, seen_s_ago: u64, lag: u64, backlog: u64) -> SiteView {
    SiteView {
        site: id.into(),
        connection,
        last_seen_unix_ms: Some(NOW_MS - seen_s_ago * 1000),
        replication_lag: lag,
        copied_events: 100,
        copy: if lag > 0 {
            CopyHealth::Copying
        } else {
            CopyHealth::CaughtUp
        },
        quarantined: 0,
        labels: [("region".to_string(), "eu".to_string())].into(),
        timezone: Some("Europe/Paris".into()),
        maintenance_window: None,
        telemetry: vec![TelemetryDeliveryView {
            endpoint: "http://prometheus:9090/api/v1/write".into(),
            backlog_batches: backlog,
            ..Default::default()
        }],
    }
}

fn node(site: &str, id: &str, state: NodeLifecycle, silent: bool, os_failed: bool) -> NodeView {
    NodeView {
        site: site.into(),
        id: id.into(),
        state,
        cluster: Some("main".into()),
        role: Some(if id == "n1" {
            NodeRole::ControlPlane
        } else {
            NodeRole::Worker
        }),
        assigned_cluster: Some("main".into()),
        labels: Default::default(),
        inventory: None,
        generation: 1,
        observed_generation: 1,
        failure: (state == NodeLifecycle::Failed).then(|| "provisioning failed: disk full".into()),
        silent,
        last_heartbeat_ms_ago: Some(if silent { 600_000 } else { 2_000 }),
        os_version: Some("2026.11".into()),
        os_slot: Some(RootSlot::A),
        os_updating_to: None,
        os_last_failure: os_failed.then(|| OsUpdateFailure {
            attempted: "2026.12".into(),
            reason: "health check failed".into(),
        }),
    }
}

fn rollout(id: &str, state: &str, statuses: &[&[&str]]) -> RolloutView {
    RolloutView {
        id: id.into(),
        profile: Some("edge-stack@2".parse().expect("profile ref")),
        state: state.into(),
        released_waves: statuses.len(),
        waves: statuses
            .iter()
            .enumerate()
            .map(|(w, wave)| {
                wave.iter()
                    .enumerate()
                    .map(|(c, status)| ClusterProgress {
                        cluster: format!("s{}-{c}/main", w + 1),
                        status: (*status).into(),
                    })
                    .collect()
            })
            .collect(),
        failures: 1,
        failure_budget: 2,
        window: None,
        gate: Some("node_load1 < 64".into()),
    }
}

struct Fleet {
    sites: Vec<SiteView>,
    nodes: Vec<NodeView>,
    rollouts: Vec<RolloutView>,
    quarantine: Vec<QuarantineView>,
}

/// Four sites (one offline for three hours, one behind, one with telemetry waiting, one fine), four nodes (one
/// failed, one silent, one whose OS update failed, one fine), three rollouts (paused at a gate, with a rolled-back
/// cluster, running) and one quarantined message.
fn fleet() -> Fleet {
    Fleet {
        sites: vec![
            site("s1", SiteConnection::Disconnected, 3 * 3600, 0, 0),
            site("s2", SiteConnection::Connected, 2, 5, 0),
            site("s3", SiteConnection::Connected, 2, 0, 7),
            site("s4", SiteConnection::Connected, 2, 0, 0),
        ],
        nodes: vec![
            node("s1", "n1", NodeLifecycle::Failed, false, false),
            node("s2", "n1", NodeLifecycle::Ready, true, false),
            node("s3", "n1", NodeLifecycle::Ready, false, true),
            node("s4", "n1", NodeLifecycle::Ready, false, false),
        ],
        rollouts: vec![
            rollout(
                "gated",
                "paused: gate breached",
                &[&["updated"], &["gate-breached: node n1 node_load1 = 80"]],
            ),
            rollout("bumpy", "running", &[&["updated", "rolled-back"], &["pending"]]),
            rollout("smooth", "running", &[&["updated"], &["updating", "pending"]]),
        ],
        quarantine: vec![QuarantineView {
            stream: "EF_SITE_s2".into(),
            seq: 42,
            site: Some("s2".into()),
            subject: "ef.site.s2.node.n1".into(),
            reason: "unknown event version 9".into(),
            size: 17,
            first_bytes: "09ff".into(),
        }],
    }
}

fn views(fleet: &Fleet) -> FleetViews<'_> {
    FleetViews {
        sites: &fleet.sites,
        nodes: &fleet.nodes,
        clusters: &[],
        rollouts: &fleet.rollouts,
        quarantine: &fleet.quarantine,
    }
}

/// One line per tag, for snapshots a person can read.
fn lines(html: &str) -> String {
    html.replace("><", ">\n<")
}

#[test]
fn the_first_screen_counts_what_needs_attention_and_says_how_long_and_why() {
    let fleet = fleet();
    let counted: Vec<(usize, &str, Option<String>)> = attention(&views(&fleet), NOW_MS)
        .lines
        .into_iter()
        .map(|l| (l.count, l.what, l.detail))
        .collect();
    assert_eq!(
        counted,
        vec![
            (1, "sites offline", Some("longest: s1, 3 h 0 min".into())),
            (1, "sites with a replication backlog", None),
            (1, "sites with a telemetry backlog", None),
            (2, "nodes failed or silent", None),
            (1, "nodes whose OS update failed", None),
            (1, "rollouts with failed or rolled-back clusters", None),
            (1, "rollouts paused", Some("gate breached".into())),
            (1, "quarantined messages", None),
        ]
    );
}

#[test]
fn every_count_links_to_a_list_showing_exactly_what_it_counted() {
    let fleet = fleet();
    for line in attention(&views(&fleet), NOW_MS).lines {
        let (path, query) = line.href.split_once('?').unwrap_or((line.href.as_str(), ""));
        let query = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let listed = match View::parse(path, &query).expect("a page") {
            View::Sites(f) => fleet.sites.iter().filter(|s| f.keeps(s)).count(),
            View::Nodes(f, None) => fleet.nodes.iter().filter(|n| f.keeps(n)).count(),
            View::Rollouts(f) => fleet.rollouts.iter().filter(|r| f.keeps(r)).count(),
            View::Quarantine => fleet.quarantine.len(),
            other => panic!("{} links to {other:?}", line.what),
        };
        assert_eq!(listed, line.count, "{}", line.what);
    }
}

#[test]
fn filters_are_named_in_their_links_and_back() {
    for (filter, name) in SiteFilter::NAMES {
        assert_eq!(name_of(&SiteFilter::NAMES, filter), name);
    }
    assert_eq!(name_of(&NodeFilter::NAMES, NodeFilter::UpdateFailed), "update-failed");
    assert_eq!(name_of(&RolloutFilter::NAMES, RolloutFilter::Paused), "paused");
}

#[test]
fn the_pages_render_as_pinned() {
    let fleet = fleet();
    insta::assert_snapshot!(
        "first_screen",
        lines(&first_screen::first_screen(&attention(&views(&fleet), NOW_MS)).0)
    );
    insta::assert_snapshot!(
        "offline_sites",
        lines(&fleet_tables::sites(&fleet.sites, SiteFilter::Offline, NOW_MS).0)
    );
    insta::assert_snapshot!(
        "nodes_failed_or_silent",
        lines(&fleet_tables::nodes(&fleet.nodes, NodeFilter::FailedOrSilent, None).0)
    );
    let explanation = RolloutExplanation {
        steps: vec![ExplainStep {
            at_unix_ms: NOW_MS,
            event: "RolloutPausedForGate".into(),
            text: "paused: s2-0/main breached its gate".into(),
        }],
        now: vec!["paused: gate breached; resume or abort".into()],
    };
    insta::assert_snapshot!(
        "paused_rollout_for_an_operator",
        lines(&rollout_pages::rollout(&fleet.rollouts[0], &explanation, true).0)
    );
}

#[test]
fn an_operator_is_offered_only_what_the_rollout_can_do_now_and_a_viewer_nothing() {
    let fleet = fleet();
    let explanation = RolloutExplanation::default();
    let buttons = |r: &RolloutView, may_act| {
        let html = rollout_pages::rollout(r, &explanation, may_act).0;
        ["pause", "resume", "abort"]
            .into_iter()
            .filter(|verb| html.contains(&format!("id=\"rollout-{verb}\"")))
            .collect::<Vec<_>>()
    };
    assert_eq!(buttons(&fleet.rollouts[0], true), ["resume", "abort"]);
    assert_eq!(buttons(&fleet.rollouts[2], true), ["pause", "abort"]);
    assert!(buttons(&fleet.rollouts[0], false).is_empty());
    let done = RolloutView {
        state: "complete".into(),
        ..fleet.rollouts[2].clone()
    };
    assert!(buttons(&done, true).is_empty());
}
