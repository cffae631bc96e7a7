//! App and placement decisions, given / when / then: apps are immutable versions; a placement is applied,
//! decided by the hub planner (only when the clusters it chooses change), and deleted; bad specs are refused with
//! the reason.

use actors::app::AppCommand;
use actors::placement::PlacementCommand;
use actors::Rejection;
use events::app::{AppEvent, AppRelease};
use events::placement::{
    ClusterKey, LabelMatch, LabelOp, PlacementEvent, PlacementSpec, Predicate, Prioritizer, PrioritizerKind,
};
use testkit::given;

fn helm(version: &str) -> AppRelease {
    AppRelease::Helm {
        chart: "oci://registry.example/charts/pos".into(),
        version: version.into(),
        values: "replicas: 2\n".into(),
        namespace: "pos".into(),
    }
}

fn spec() -> PlacementSpec {
    PlacementSpec {
        app: "pos@1".parse().expect("app ref"),
        predicates: vec![Predicate::SiteLabel(LabelMatch {
            key: "region".into(),
            op: LabelOp::In,
            values: vec!["eu".into()],
        })],
        prioritizers: vec![Prioritizer {
            kind: PrioritizerKind::Steady,
            weight: 1,
        }],
        number_of_clusters: Some(2),
        tolerate_offline_s: Some(600),
        spread_by: None,
        groups: vec![],
    }
}

fn key(site: &str) -> ClusterKey {
    ClusterKey {
        site: site.into(),
        cluster: "main".into(),
    }
}

#[test]
fn an_app_publishes_a_new_version_only_when_its_release_changes() {
    let v1 = AppEvent::VersionPublished {
        version: 1,
        release: helm("3.2.0"),
    };
    given::<AppEvent>(&[])
        .when(AppCommand::Publish(helm("3.2.0")))
        .then(std::slice::from_ref(&v1));
    given(std::slice::from_ref(&v1))
        .when(AppCommand::Publish(helm("3.2.0")))
        .then_nothing();
    given(&[v1])
        .when(AppCommand::Publish(helm("3.3.0")))
        .then(&[AppEvent::VersionPublished {
            version: 2,
            release: helm("3.3.0"),
        }]);
}

#[test]
fn a_bad_app_is_refused_with_the_reason() {
    let bad_namespace = AppRelease::Helm {
        chart: "oci://registry.example/charts/pos".into(),
        version: "1.0.0".into(),
        values: String::new(),
        namespace: "Point Of Sale".into(),
    };
    given::<AppEvent>(&[])
        .when(AppCommand::Publish(bad_namespace))
        .then_rejected(|r| matches!(r, Rejection::Invalid(m) if m.contains("namespace")));
    given::<AppEvent>(&[])
        .when(AppCommand::Publish(AppRelease::Manifests { yaml: " \n".into() }))
        .then_rejected(|r| matches!(r, Rejection::Invalid(m) if m.contains("at least one manifest")));
}

#[test]
fn a_placement_is_decided_for_its_current_spec_and_again_only_when_the_choice_changes() {
    let applied = PlacementEvent::Applied {
        generation: 1,
        spec: spec(),
    };
    let decided = PlacementEvent::Decided {
        generation: 1,
        chosen: vec![key("a"), key("b")],
        summary: "2 chosen".into(),
    };
    given(std::slice::from_ref(&applied))
        .when(PlacementCommand::Decide {
            chosen: vec![key("a"), key("b")],
            summary: "2 chosen".into(),
        })
        .then(std::slice::from_ref(&decided));
    given(&[applied.clone(), decided.clone()])
        .when(PlacementCommand::Decide {
            chosen: vec![key("a"), key("b")],
            summary: "the same, worded otherwise".into(),
        })
        .then_nothing();
    // A new spec is decided again even if it chooses the same clusters: the decision names its generation.
    let reapplied = PlacementEvent::Applied {
        generation: 2,
        spec: PlacementSpec {
            tolerate_offline_s: Some(60),
            ..spec()
        },
    };
    let state = given(&[applied, decided, reapplied])
        .when(PlacementCommand::Decide {
            chosen: vec![key("a"), key("b")],
            summary: "2 chosen".into(),
        })
        .then(&[PlacementEvent::Decided {
            generation: 2,
            chosen: vec![key("a"), key("b")],
            summary: "2 chosen".into(),
        }]);
    assert_eq!(state.placed(), [key("a"), key("b")]);
}

#[test]
fn a_deleted_placement_places_nothing_and_is_not_decided_again() {
    let events = [
        PlacementEvent::Applied {
            generation: 1,
            spec: spec(),
        },
        PlacementEvent::Decided {
            generation: 1,
            chosen: vec![key("a")],
            summary: "1 chosen".into(),
        },
    ];
    let state = given(&events)
        .when(PlacementCommand::Delete)
        .then(&[PlacementEvent::Deleted { generation: 2 }]);
    assert!(state.placed().is_empty());
    let mut deleted = events.to_vec();
    deleted.push(PlacementEvent::Deleted { generation: 2 });
    given(&deleted)
        .when(PlacementCommand::Decide {
            chosen: vec![key("a")],
            summary: "x".into(),
        })
        .then_rejected(|r| matches!(r, Rejection::Conflict(_)));
    given::<PlacementEvent>(&[])
        .when(PlacementCommand::Delete)
        .then_rejected(|r| matches!(r, Rejection::NotFound(_)));
}

#[test]
fn bad_placement_specs_are_refused_with_the_reason() {
    let refused = |spec: PlacementSpec, says: &str| {
        let says = says.to_owned();
        given::<PlacementEvent>(&[])
            .when(PlacementCommand::Apply(spec))
            .then_rejected(move |r| matches!(r, Rejection::Invalid(m) if m.contains(&says)));
    };
    refused(
        PlacementSpec {
            number_of_clusters: Some(0),
            ..spec()
        },
        "at least 1",
    );
    refused(
        PlacementSpec {
            predicates: vec![Predicate::NodeLabel(LabelMatch {
                key: "gpu".into(),
                op: LabelOp::In,
                values: vec![],
            })],
            ..spec()
        },
        "need values",
    );
    refused(
        PlacementSpec {
            prioritizers: vec![Prioritizer {
                kind: PrioritizerKind::LeastLoaded,
                weight: 0,
            }],
            ..spec()
        },
        "weights are 1-100",
    );
}
