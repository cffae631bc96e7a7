//! Central config: given the operator's entries, what each site resolves to (a site's own over a label's over every
//! site's, expired entries gone), and the aggregate's decisions (keys checked, unchanged sets are no-ops, revisions
//! count up, the site reports what it holds).

use actors::config::{ConfigCommand, ConfigState};
use actors::plan::hub_config::resolve_for_site;
use actors::Rejection;
use events::config::{ConfigEvent, ConfigScope, ConfigValue, ResolvedValue};
use events::Hlc;
use std::collections::BTreeMap;
use testkit::{given, token};

fn value(text: &str, expires_at_ms: Option<u64>) -> ConfigValue {
    ConfigValue {
        value: text.into(),
        expires_at_ms,
    }
}

fn set(scope: &str, key: &str, text: &str, expires_at_ms: Option<u64>) -> ConfigEvent {
    ConfigEvent::EntrySet {
        scope: scope.parse().expect("scope"),
        key: key.into(),
        value: value(text, expires_at_ms),
    }
}

fn entries(events: &[ConfigEvent]) -> ConfigState {
    let mut state = ConfigState::default();
    for event in events {
        actors::Aggregate::apply(&mut state, event, Hlc::default());
    }
    state
}

fn resolved(state: &ConfigState, site: &str, labels: &[(&str, &str)], now_ms: u64) -> Vec<(String, String, String)> {
    let labels: BTreeMap<String, String> = labels.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    resolve_for_site(state, &token(site), &labels, now_ms)
        .into_iter()
        .map(|(key, r)| (key, r.value.value, r.scope.to_string()))
        .collect()
}

#[test]
fn a_site_resolves_its_own_entry_over_a_labels_over_every_sites() {
    let state = entries(&[
        set("all", "menu/soup", "tomato", None),
        set("all", "flags/new-ui", "off", None),
        set("label=tier=gold", "flags/new-ui", "on", None),
        set("site=store-7", "menu/soup", "lentil", None),
        set("site=store-8", "menu/soup", "pea", None),
    ]);
    assert_eq!(
        resolved(&state, "store-7", &[("tier", "gold")], 0),
        [
            ("flags/new-ui".into(), "on".into(), "label=tier=gold".into()),
            ("menu/soup".into(), "lentil".into(), "site=store-7".into()),
        ]
    );
    // A silver store gets every site's values and nothing of store-7's or store-8's.
    assert_eq!(
        resolved(&state, "store-9", &[("tier", "silver")], 0),
        [
            ("flags/new-ui".into(), "off".into(), "all".into()),
            ("menu/soup".into(), "tomato".into(), "all".into()),
        ]
    );
}

#[test]
fn an_expired_entry_is_resolved_away_and_the_one_below_shows_again() {
    let state = entries(&[
        set("all", "promo", "none", None),
        set("site=store-7", "promo", "two-for-one", Some(1_000)),
    ]);
    assert_eq!(resolved(&state, "store-7", &[], 999)[0].1, "two-for-one");
    assert_eq!(resolved(&state, "store-7", &[], 1_000)[0].1, "none");
}

#[test]
fn keys_are_what_a_kv_bucket_takes_and_values_are_bounded() {
    for bad in ["", ".x", "x.", "a..b", "menu soup", "ключ"] {
        given::<ConfigEvent>(&[])
            .when(ConfigCommand::Set {
                scope: ConfigScope::All,
                key: bad.into(),
                value: value("v", None),
            })
            .then_rejected(|r| matches!(r, Rejection::Invalid(m) if m.contains("must be")));
    }
    given::<ConfigEvent>(&[])
        .when(ConfigCommand::Set {
            scope: ConfigScope::All,
            key: "big".into(),
            value: value(&"x".repeat(64 * 1024 + 1), None),
        })
        .then_rejected(|r| matches!(r, Rejection::Invalid(m) if m.contains("exceeds")));
}

#[test]
fn setting_the_same_value_again_changes_nothing_and_deleting_a_missing_key_is_refused() {
    given(&[set("all", "menu/soup", "tomato", None)])
        .when(ConfigCommand::Set {
            scope: ConfigScope::All,
            key: "menu/soup".into(),
            value: value("tomato", None),
        })
        .then_nothing();
    given::<ConfigEvent>(&[])
        .when(ConfigCommand::Delete {
            scope: ConfigScope::All,
            key: "menu/soup".into(),
        })
        .then_rejected(|r| matches!(r, Rejection::NotFound(_)));
}

#[test]
fn each_new_resolved_set_is_the_next_revision_and_the_site_reports_what_it_holds() {
    let one = BTreeMap::from([(
        "menu/soup".to_string(),
        ResolvedValue {
            value: value("tomato", None),
            scope: ConfigScope::All,
        },
    )]);
    let first = ConfigEvent::Resolved {
        revision: 1,
        entries: one.clone(),
    };
    given::<ConfigEvent>(&[])
        .when(ConfigCommand::Resolve(one.clone()))
        .then(std::slice::from_ref(&first));
    given(std::slice::from_ref(&first))
        .when(ConfigCommand::Resolve(one))
        .then_nothing();
    given(std::slice::from_ref(&first))
        .when(ConfigCommand::Resolve(BTreeMap::new()))
        .then(&[ConfigEvent::Resolved {
            revision: 2,
            entries: BTreeMap::new(),
        }]);
    given(&[first])
        .when(ConfigCommand::ReportHeld(1))
        .then(&[ConfigEvent::Held { revision: 1 }]);
}
