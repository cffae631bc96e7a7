//! The hub's placements: each placement decided again over the fleet as it is now, and every cluster asked to run
//! the apps its placements' recorded decisions give it. Part of [`super::plan_hub`]; pure.
//!
//! - A placement's decision is written only when the clusters it chooses differ from the recorded ones, or the spec
//!   changed since: a new site, a cluster that stops matching, a site offline past the toleration, a changed spec.
//!   Flapping is damped by the placement's own `steady` prioritizer, not here.
//! - A cluster's apps are derived from the recorded decisions (never from one still to be written), so a hub that
//!   crashed between the two writes the clusters on its next plan. Two placements of the same app on one cluster:
//!   the higher version wins.
//! - With decision groups, delivery is staged: a group's clusters are asked to run the app only once every cluster
//!   of the groups before it reported running it (a failed canary stops the rest).

use super::hub::HubCommand;
use crate::cluster::ClusterCommand;
use crate::fleet_state::FleetState;
use crate::placement::{choose_placement, decide_placement, fleet_candidates, PlacementCommand};
use events::app::AppRef;
use events::placement::ClusterKey;
use events::Token;
use std::collections::{BTreeMap, BTreeSet};

/// Every placement decision and cluster app set the hub should write now.
pub fn plan_placements(fleet: &FleetState, offline_for_ms: &BTreeMap<Token, u64>, out: &mut Vec<HubCommand>) {
    for (name, placement) in fleet.placements() {
        let Some(spec) = placement.spec.as_ref().filter(|_| !placement.deleted) else {
            continue;
        };
        let previous: BTreeSet<ClusterKey> = placement.placed().iter().cloned().collect();
        let candidates = fleet_candidates(fleet, &spec.app.name, offline_for_ms);
        // The choice alone every pass; its explanation (the recorded summary) only when it changed.
        let chosen = choose_placement(spec, &candidates, &previous);
        let recorded = placement.decision.as_ref();
        let changed = recorded.is_none_or(|d| d.chosen != chosen || d.generation != placement.generation);
        if changed {
            let decision = decide_placement(spec, &candidates, &previous);
            out.push(HubCommand::Placement {
                placement: name.clone(),
                command: PlacementCommand::Decide {
                    chosen: decision.chosen,
                    summary: decision.summary,
                },
            });
        }
    }
    let wanted = apps_by_cluster(fleet);
    for (site, id, cluster) in fleet.clusters() {
        if cluster.spec.deleted || (cluster.spec.profile.is_none() && !cluster.formed()) {
            continue;
        }
        let key = ClusterKey {
            site: site.to_string(),
            cluster: id.to_string(),
        };
        let apps = wanted.get(&key).cloned().unwrap_or_default();
        if apps != cluster.spec.apps {
            out.push(HubCommand::Cluster {
                site: site.clone(),
                cluster: id.clone(),
                command: ClusterCommand::SetApps(apps),
            });
        }
    }
}

/// The apps each cluster should run by the recorded decisions (app name → highest version placed on it).
fn apps_by_cluster(fleet: &FleetState) -> BTreeMap<ClusterKey, BTreeMap<Token, AppRef>> {
    let mut out: BTreeMap<ClusterKey, BTreeMap<Token, AppRef>> = BTreeMap::new();
    for (_, placement) in fleet.placements() {
        let Some(spec) = &placement.spec else { continue };
        for key in delivered(fleet, spec, placement.placed()) {
            let apps = out.entry(key).or_default();
            match apps.get(&spec.app.name) {
                Some(have) if have.version >= spec.app.version => {}
                _ => {
                    apps.insert(spec.app.name.clone(), spec.app.clone());
                }
            }
        }
    }
    out
}

/// The clusters of a decision that get the app now: with decision groups, group by group, a group only once every
/// cluster of the groups before it runs the app (as its site reported); a cluster that already runs it keeps it.
fn delivered(fleet: &FleetState, spec: &events::placement::PlacementSpec, placed: &[ClusterKey]) -> Vec<ClusterKey> {
    if spec.groups.is_empty() {
        return placed.to_vec();
    }
    let cluster = |k: &ClusterKey| {
        let site = Token::new(k.site.clone()).ok()?;
        let id = Token::new(k.cluster.clone()).ok()?;
        let state = fleet.cluster(&site, &id)?;
        let site_labels = fleet.site(&site).map(|s| s.spec.labels.clone()).unwrap_or_default();
        Some((state, site_labels))
    };
    let running =
        |k: &ClusterKey| cluster(k).is_some_and(|(c, _)| c.status.apps.get(&spec.app.name) == Some(&spec.app));
    let mut stages: Vec<Vec<ClusterKey>> = vec![Vec::new(); spec.groups.len() + 1];
    for key in placed {
        let stage = cluster(key)
            .and_then(|(c, site_labels)| spec.groups.iter().position(|g| g.takes(&site_labels, &c.spec.labels)))
            .unwrap_or(spec.groups.len());
        stages[stage].push(key.clone());
    }
    let mut out = Vec::new();
    for stage in stages {
        let done = stage.iter().all(running);
        out.extend(stage);
        if !done {
            break;
        }
    }
    let already: Vec<ClusterKey> = placed
        .iter()
        .filter(|k| running(k) && !out.contains(k))
        .cloned()
        .collect();
    out.extend(already);
    out
}
