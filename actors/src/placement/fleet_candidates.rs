//! The fleet's clusters as placement candidates, read from a [`FleetState`]: each cluster's site labels and time
//! zone, its own labels, its members' CPUs, memory and labels, how long its site has been offline (observed by the
//! caller), and its load — the apps the placements put on it per CPU, not counting the app being placed (so placing
//! it does not make its own clusters look busier).

use super::candidate::{ClusterCandidate, ClusterKey};
use crate::fleet_state::FleetState;
use events::Token;
use std::collections::BTreeMap;

/// Every created cluster of the fleet as a candidate for `app`; `offline_for_ms` holds the sites that are offline.
pub fn fleet_candidates(
    fleet: &FleetState,
    app: &Token,
    offline_for_ms: &BTreeMap<Token, u64>,
) -> Vec<ClusterCandidate> {
    let mut out = Vec::new();
    for (site, id, cluster) in fleet.clusters() {
        if cluster.spec.profile.is_none() && !cluster.formed() {
            continue; // not created at the hub, nor formed at the site
        }
        let site_state = fleet.site(site);
        let members: Vec<_> = cluster
            .status
            .members
            .keys()
            .filter_map(|node| fleet.node(site, node))
            .collect();
        let cpus: u32 = members
            .iter()
            .filter_map(|n| n.status.inventory.as_ref())
            .map(|i| i.cpu_count)
            .sum();
        let memory_mib: u64 = members
            .iter()
            .filter_map(|n| n.status.inventory.as_ref())
            .map(|i| i.memory_bytes >> 20)
            .sum();
        let other_apps = cluster.spec.apps.keys().filter(|name| *name != app).count() as u32;
        out.push(ClusterCandidate {
            key: ClusterKey {
                site: site.to_string(),
                cluster: id.to_string(),
            },
            site_labels: site_state.map(|s| s.spec.labels.clone()).unwrap_or_default(),
            cluster_labels: cluster.spec.labels.clone(),
            timezone: site_state.and_then(|s| s.status.timezone.clone()),
            cpus,
            memory_mib,
            node_labels: members.iter().map(|n| n.spec.labels.clone()).collect(),
            offline_for_ms: offline_for_ms.get(site).copied(),
            load_permille: (cpus > 0).then(|| (other_apps * 1000 / cpus).min(1000)),
            deleted: cluster.spec.deleted,
        });
    }
    out
}
