//! The hub's config: for every site, the operator's entries that target it resolved into one set — a site's own
//! entry over a label's over every site's (between two labels, the one whose scope sorts first) — without the
//! entries that expired; written as a new revision of the site's `config/<site>/resolved` when it differs. Part of
//! [`super::plan_hub`]; pure.

use super::hub::HubCommand;
use crate::config::{ConfigCommand, ConfigState};
use crate::fleet_state::FleetState;
use events::config::{ConfigScope, ResolvedValue};
use events::AggregateRef;
use std::collections::BTreeMap;

/// What `site` (labelled `labels`) should hold of `entries` at `now_ms`.
pub fn resolve_for_site(
    entries: &ConfigState,
    site: &events::Token,
    labels: &BTreeMap<String, String>,
    now_ms: u64,
) -> BTreeMap<String, ResolvedValue> {
    let mut out: BTreeMap<String, ResolvedValue> = BTreeMap::new();
    for (scope, key, entry) in entries.all_entries() {
        let targets = match scope {
            ConfigScope::All => true,
            ConfigScope::Site(s) => s == site,
            ConfigScope::Label { key, value } => labels.get(key) == Some(value),
        };
        let live = entry.value.expires_at_ms.is_none_or(|at| at > now_ms);
        if !targets || !live {
            continue;
        }
        let wins = out
            .get(key)
            .is_none_or(|have| scope.precedence() > have.scope.precedence());
        if wins {
            out.insert(
                key.clone(),
                ResolvedValue {
                    value: entry.value.clone(),
                    scope: scope.clone(),
                },
            );
        }
    }
    out
}

/// Every site's resolved config the hub should write now.
pub fn plan_config(fleet: &FleetState, now_ms: u64, out: &mut Vec<HubCommand>) {
    let empty = ConfigState::default();
    let entries = fleet.config(&AggregateRef::config_entries()).unwrap_or(&empty);
    for (site, state) in fleet.sites() {
        let resolved = resolve_for_site(entries, site, &state.spec.labels, now_ms);
        let aggregate = AggregateRef::config_resolved(site);
        let current = fleet.config(&aggregate).unwrap_or(&empty);
        let unchanged = current.resolved == resolved && (current.revision > 0 || resolved.is_empty());
        if !unchanged {
            out.push(HubCommand::Config {
                aggregate,
                command: ConfigCommand::Resolve(resolved),
            });
        }
    }
}
