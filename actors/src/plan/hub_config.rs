//! The hub's config: for every site, the operator's entries that target it resolved into one set — a site's own
//! entry over a label's over every site's (between two labels, the one whose scope sorts first) — without the
//! entries that expired; written as a new revision of the site's `config/<site>/resolved` when it differs. Part of
//! [`super::plan_hub`]; pure.

use super::hub::HubCommand;
use crate::config::{ConfigCommand, ConfigEntry, ConfigState};
use crate::fleet_state::FleetState;
use events::config::{ConfigScope, ResolvedValue};
use events::AggregateRef;
use std::collections::BTreeMap;

/// Each key's winning entry for `site` (labelled `labels`) at `now_ms`, borrowed.
fn winners<'e>(
    entries: &'e ConfigState,
    site: &events::Token,
    labels: &BTreeMap<String, String>,
    now_ms: u64,
) -> BTreeMap<&'e str, (&'e ConfigScope, &'e ConfigEntry)> {
    let mut out: BTreeMap<&str, (&ConfigScope, &ConfigEntry)> = BTreeMap::new();
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
            .get(key.as_str())
            .is_none_or(|(have, _)| scope.precedence() > have.precedence());
        if wins {
            out.insert(key, (scope, entry));
        }
    }
    out
}

/// What `site` (labelled `labels`) should hold of `entries` at `now_ms`.
pub fn resolve_for_site(
    entries: &ConfigState,
    site: &events::Token,
    labels: &BTreeMap<String, String>,
    now_ms: u64,
) -> BTreeMap<String, ResolvedValue> {
    winners(entries, site, labels, now_ms)
        .into_iter()
        .map(|(key, (scope, entry))| {
            let resolved = ResolvedValue {
                value: entry.value.clone(),
                scope: scope.clone(),
            };
            (key.to_string(), resolved)
        })
        .collect()
}

/// Every site's resolved config the hub should write now.
pub fn plan_config(fleet: &FleetState, now_ms: u64, out: &mut Vec<HubCommand>) {
    let empty = ConfigState::default();
    let entries = fleet.config(&AggregateRef::config_entries()).unwrap_or(&empty);
    for (site, state) in fleet.sites() {
        let aggregate = AggregateRef::config_resolved(site);
        let current = fleet.config(&aggregate).unwrap_or(&empty);
        // Compared borrowed first: a site whose set is unchanged costs no copy.
        let wanted = winners(entries, site, &state.spec.labels, now_ms);
        let same = wanted.len() == current.resolved.len()
            && wanted.iter().all(|(key, (scope, entry))| {
                current
                    .resolved
                    .get(*key)
                    .is_some_and(|r| r.scope == **scope && r.value == entry.value)
            });
        let unchanged = same && (current.revision > 0 || wanted.is_empty());
        if !unchanged {
            let resolved = resolve_for_site(entries, site, &state.spec.labels, now_ms);
            out.push(HubCommand::Config {
                aggregate,
                command: ConfigCommand::Resolve(resolved),
            });
        }
    }
}
