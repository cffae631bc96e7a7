//! Placement over a fleet of 50 simulated sites with mixed labels, inventory, load and connectivity: given a
//! placement, which clusters it chooses and the explanation of every cluster (insta), including a placement that
//! fits nothing and says why; steadiness and offline toleration as behaviour.

use actors::placement::{
    decide_placement, ClusterCandidate, ClusterKey, LabelMatch, LabelOp, PlacementSpec, Predicate, Prefer, Prioritizer,
    PrioritizerKind, Verdict,
};
use std::collections::{BTreeMap, BTreeSet};

const REGIONS: [&str; 3] = ["eu", "us", "apac"];

fn labels(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// 50 stores: three regions, gold and silver tiers, latency and cost labels, 4–16 CPUs, some with a GPU cluster,
/// every seventh offline for a while, one cluster deleted.
fn fleet() -> Vec<ClusterCandidate> {
    let mut out = Vec::new();
    for i in 0..50u32 {
        let region = REGIONS[(i % 3) as usize];
        let timezone = match (region, i % 2) {
            ("eu", 0) => "Europe/Berlin",
            ("eu", _) => "Europe/Paris",
            ("us", _) => "America/Chicago",
            _ => "Asia/Tokyo",
        };
        let site = format!("store-{i:02}");
        let site_labels = labels(&[
            ("region", region.into()),
            ("tier", if i % 4 == 0 { "gold" } else { "silver" }.into()),
            ("latency-ms", (10 + (i * 37) % 90).to_string()),
            ("cost", (1 + (i * 13) % 5).to_string()),
        ]);
        let node = |gpu: bool| {
            let mut l = labels(&[("kubernetes.io/arch", "amd64".into())]);
            if gpu {
                l.insert("accelerator".into(), "nvidia-t4".into());
            }
            l
        };
        out.push(ClusterCandidate {
            key: ClusterKey {
                site: site.clone(),
                cluster: "main".into(),
            },
            site_labels: site_labels.clone(),
            cluster_labels: labels(&[("tier", "store".into())]),
            timezone: Some(timezone.into()),
            cpus: 4 * (1 + i % 4),
            memory_mib: 8192 * u64::from(1 + i % 3),
            node_labels: vec![node(false); (1 + i % 3) as usize],
            offline_for_ms: (i % 7 == 0 && i > 0).then_some(u64::from(i) * 60_000),
            load_permille: (i % 5 != 4).then_some((i * 97) % 1000),
            deleted: i == 13,
        });
        if i % 10 == 5 {
            out.push(ClusterCandidate {
                key: ClusterKey {
                    site,
                    cluster: "vision".into(),
                },
                site_labels,
                cluster_labels: labels(&[("tier", "gpu".into())]),
                timezone: Some(timezone.into()),
                cpus: 32,
                memory_mib: 65536,
                node_labels: vec![node(true), node(false)],
                offline_for_ms: None,
                load_permille: Some(200),
                deleted: false,
            });
        }
    }
    out
}

fn label(key: &str, op: LabelOp, values: &[&str]) -> LabelMatch {
    LabelMatch {
        key: key.into(),
        op,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

fn prioritizer(kind: PrioritizerKind, weight: u32) -> Prioritizer {
    Prioritizer { kind, weight }
}

fn placement(app: &str) -> PlacementSpec {
    PlacementSpec {
        app: format!("{app}@1").parse().expect("app ref"),
        predicates: vec![],
        prioritizers: vec![],
        number_of_clusters: None,
        tolerate_offline_s: None,
        spread_by: None,
        groups: vec![],
    }
}

fn chosen_of(spec: &PlacementSpec, previous: &BTreeSet<ClusterKey>) -> Vec<String> {
    decide_placement(spec, &fleet(), previous)
        .chosen
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_point_of_sale_goes_to_the_two_eu_gold_stores_with_the_lowest_latency() {
    let spec = PlacementSpec {
        predicates: vec![
            Predicate::SiteLabel(label("region", LabelOp::In, &["eu"])),
            Predicate::SiteLabel(label("tier", LabelOp::In, &["gold"])),
            Predicate::ClusterLabel(label("tier", LabelOp::In, &["store"])),
        ],
        prioritizers: vec![
            prioritizer(
                PrioritizerKind::LabelValue {
                    label: "latency-ms".into(),
                    prefer: Prefer::Lower,
                },
                2,
            ),
            prioritizer(PrioritizerKind::LeastLoaded, 1),
            prioritizer(PrioritizerKind::Steady, 1),
        ],
        number_of_clusters: Some(2),
        tolerate_offline_s: Some(600),
        ..placement("pos")
    };
    let decision = decide_placement(&spec, &fleet(), &BTreeSet::new());
    assert_eq!(decision.chosen.len(), 2);
    insta::assert_snapshot!(decision.to_string());
}

#[test]
fn a_spread_placement_takes_one_cluster_per_region_before_a_second() {
    let spec = PlacementSpec {
        predicates: vec![Predicate::MinCpus(12)],
        prioritizers: vec![
            prioritizer(PrioritizerKind::MostCpus, 1),
            prioritizer(PrioritizerKind::LeastLoaded, 1),
        ],
        number_of_clusters: Some(4),
        spread_by: Some("region".into()),
        tolerate_offline_s: Some(3600),
        ..placement("analytics")
    };
    let decision = decide_placement(&spec, &fleet(), &BTreeSet::new());
    let regions: Vec<&str> = decision
        .chosen
        .iter()
        .map(|k| REGIONS[k.site.trim_start_matches("store-").parse::<usize>().expect("n") % 3])
        .collect();
    assert_eq!(
        regions[..3].iter().collect::<BTreeSet<_>>().len(),
        3,
        "the first three chosen are in three regions: {regions:?}"
    );
    insta::assert_snapshot!(decision.to_string());
}

#[test]
fn a_vision_app_needs_a_gpu_node_and_memory_and_a_time_zone_in_europe() {
    let spec = PlacementSpec {
        predicates: vec![
            Predicate::NodeLabel(label("accelerator", LabelOp::Exists, &[])),
            Predicate::MinMemoryMib(32768),
            Predicate::TimezoneIn(vec!["Europe/Berlin".into(), "Europe/Paris".into()]),
        ],
        prioritizers: vec![prioritizer(
            PrioritizerKind::LabelValue {
                label: "cost".into(),
                prefer: Prefer::Lower,
            },
            1,
        )],
        ..placement("vision")
    };
    insta::assert_snapshot!(decide_placement(&spec, &fleet(), &BTreeSet::new()).to_string());
}

#[test]
fn a_placement_that_fits_nothing_says_which_filter_removed_each_cluster() {
    let spec = PlacementSpec {
        predicates: vec![
            Predicate::SiteLabel(label("region", LabelOp::In, &["eu", "us"])),
            Predicate::MinCpus(64),
        ],
        number_of_clusters: Some(3),
        ..placement("too-big")
    };
    let decision = decide_placement(&spec, &fleet(), &BTreeSet::new());
    assert!(decision.chosen.is_empty());
    assert!(decision.summary.contains("Nothing fits"), "{}", decision.summary);
    assert!(decision
        .clusters
        .iter()
        .all(|c| matches!(c.verdict, Verdict::Filtered { .. })));
    insta::assert_snapshot!(decision.to_string());
    insta::assert_json_snapshot!("nothing_fits_json_first_three", &decision.clusters[..3]);
}

#[test]
fn a_decision_keeps_its_clusters_unless_another_is_better_by_more_than_the_steady_weight() {
    let spec = |steady: u32| PlacementSpec {
        prioritizers: vec![
            prioritizer(PrioritizerKind::LeastLoaded, 1),
            prioritizer(PrioritizerKind::Steady, steady),
        ],
        number_of_clusters: Some(3),
        tolerate_offline_s: Some(86_400),
        ..placement("kiosk")
    };
    // Last week's choice: three clusters that are not the least loaded today.
    let previous: BTreeSet<ClusterKey> = ["store-10", "store-20", "store-30"]
        .iter()
        .map(|s| ClusterKey {
            site: (*s).into(),
            cluster: "main".into(),
        })
        .collect();
    let fresh = chosen_of(&spec(0), &BTreeSet::new());
    assert!(
        fresh.iter().all(|c| !previous.iter().any(|p| p.to_string() == *c)),
        "{fresh:?}"
    );
    // With steadiness worth a whole prioritizer, the previous clusters stay.
    let steady = chosen_of(&spec(1), &previous);
    let mut steady_sorted = steady.clone();
    steady_sorted.sort();
    assert_eq!(steady_sorted, ["store-10/main", "store-20/main", "store-30/main"]);
    // Without it, the decision moves to today's least loaded.
    assert_eq!(chosen_of(&spec(0), &previous), fresh);
}

#[test]
fn an_offline_site_keeps_its_clusters_eligible_only_within_the_toleration() {
    let spec = |tolerate: Option<u64>| PlacementSpec {
        predicates: vec![Predicate::SiteLabel(label("region", LabelOp::In, &["eu"]))],
        tolerate_offline_s: tolerate,
        ..placement("menu")
    };
    let store_21 = ClusterKey {
        site: "store-21".into(),
        cluster: "main".into(),
    }; // eu, offline 21 minutes
    let verdict = |tolerate| {
        decide_placement(&spec(tolerate), &fleet(), &BTreeSet::new())
            .clusters
            .into_iter()
            .find(|c| c.cluster == store_21)
            .expect("considered")
            .verdict
    };
    assert!(matches!(verdict(None), Verdict::Filtered { by, reason } if by == "offline" && reason.contains("21m")));
    assert!(
        matches!(verdict(Some(1200)), Verdict::Filtered { reason, .. } if reason.contains("past the 20m tolerated"))
    );
    assert!(matches!(verdict(Some(1800)), Verdict::Scored { chosen: true, .. }));
}

#[test]
fn decision_groups_split_the_chosen_clusters_for_staged_delivery() {
    let spec = PlacementSpec {
        predicates: vec![Predicate::SiteLabel(label("region", LabelOp::In, &["us"]))],
        prioritizers: vec![prioritizer(PrioritizerKind::MostCpus, 1)],
        number_of_clusters: Some(5),
        tolerate_offline_s: Some(86_400),
        groups: vec![
            events::placement::DecisionGroup {
                name: "canary".into(),
                selector: label("cost", LabelOp::In, &["1"]),
            },
            events::placement::DecisionGroup {
                name: "gpu".into(),
                selector: label("tier", LabelOp::In, &["gpu"]),
            },
        ],
        ..placement("kiosk")
    };
    let decision = decide_placement(&spec, &fleet(), &BTreeSet::new());
    let names: Vec<&str> = decision.groups.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["canary", "gpu", "rest"]);
    let grouped: usize = decision.groups.iter().map(|(_, clusters)| clusters.len()).sum();
    assert_eq!(
        grouped,
        decision.chosen.len(),
        "every chosen cluster is in exactly one group"
    );
    insta::assert_snapshot!(decision
        .to_string()
        .lines()
        .filter(|l| l.contains("group "))
        .collect::<Vec<_>>()
        .join("\n"));
}

/// The hub planner's fast choice is always the explained decision's, whatever the spec and the previous choice.
#[test]
fn the_planners_choice_is_the_explained_decisions_choice() {
    let fleet = fleet();
    let kinds = [
        PrioritizerKind::Steady,
        PrioritizerKind::LeastLoaded,
        PrioritizerKind::MostCpus,
        PrioritizerKind::LabelValue {
            label: "latency-ms".into(),
            prefer: Prefer::Lower,
        },
        PrioritizerKind::LabelValue {
            label: "cost".into(),
            prefer: Prefer::Higher,
        },
    ];
    let previous: BTreeSet<ClusterKey> = fleet.iter().step_by(7).map(|c| c.key.clone()).collect();
    let mut checked = 0;
    for number in [None, Some(1), Some(3), Some(10)] {
        for spread in [None, Some("region".to_string())] {
            for (i, kind) in kinds.iter().enumerate() {
                for tolerate in [None, Some(1200)] {
                    let spec = PlacementSpec {
                        prioritizers: vec![
                            prioritizer(kind.clone(), 1 + i as u32),
                            prioritizer(kinds[(i + 2) % kinds.len()].clone(), 2),
                        ],
                        number_of_clusters: number,
                        spread_by: spread.clone(),
                        tolerate_offline_s: tolerate,
                        ..placement("any")
                    };
                    for before in [BTreeSet::new(), previous.clone()] {
                        let fast = actors::placement::choose_placement(&spec, &fleet, &before);
                        assert_eq!(fast, decide_placement(&spec, &fleet, &before).chosen, "{spec:?}");
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 160);
}
