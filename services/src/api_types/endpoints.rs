//! The API's endpoints: `ef.api.v1.<resource>.<verb>`, and the least role that may call each. The hub's
//! nats-server enforces the same split by subject (a viewer may publish only `*.list` and `*.get`, an operator
//! everything but the admin endpoints); the hub checks the verified caller's role again before it acts.

use fleet_trust::OperatorRole::{self, Admin, Operator, Viewer};

/// One endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `resource.verb` under `ef.api.v1`.
    pub name: &'static str,
    /// The least role that may call it.
    pub role: OperatorRole,
}

const fn endpoint(name: &'static str, role: OperatorRole) -> Endpoint {
    Endpoint { name, role }
}

/// Every endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    endpoint("sites.list", Viewer),
    endpoint("sites.get", Viewer),
    endpoint("sites.label", Operator),
    endpoint("sites.add", Admin),
    endpoint("sites.rotate", Admin),
    endpoint("sites.revoke", Admin),
    endpoint("nodes.list", Viewer),
    endpoint("nodes.get", Viewer),
    endpoint("nodes.assign", Operator),
    endpoint("nodes.unassign", Operator),
    endpoint("nodes.reset", Operator),
    endpoint("nodes.label", Operator),
    endpoint("node_samples.get", Viewer),
    endpoint("profiles.apply", Operator),
    endpoint("profiles.list", Viewer),
    endpoint("profiles.get", Viewer),
    endpoint("clusters.create", Operator),
    endpoint("clusters.list", Viewer),
    endpoint("clusters.get", Viewer),
    endpoint("clusters.delete", Operator),
    endpoint("clusters.upgrade", Operator),
    endpoint("clusters.label", Operator),
    endpoint("rollouts.create", Operator),
    endpoint("rollouts.list", Viewer),
    endpoint("rollouts.get", Viewer),
    endpoint("rollouts.pause", Operator),
    endpoint("rollouts.resume", Operator),
    endpoint("rollouts.abort", Operator),
    endpoint("rollout_explanations.get", Viewer),
    endpoint("quarantine.list", Viewer),
    endpoint("quarantine.get", Viewer),
    endpoint("history.list", Viewer),
    endpoint("logs.list", Viewer),
    endpoint("apps.apply", Operator),
    endpoint("apps.list", Viewer),
    endpoint("apps.get", Viewer),
    endpoint("placements.apply", Operator),
    endpoint("placements.list", Viewer),
    endpoint("placements.get", Viewer),
    endpoint("placements.delete", Operator),
    endpoint("placement_explanations.get", Viewer),
    endpoint("placement_dry_runs.get", Viewer),
    endpoint("config.set", Operator),
    endpoint("config.delete", Operator),
    endpoint("config.list", Viewer),
    endpoint("config.get", Viewer),
    endpoint("config_sites.list", Viewer),
    endpoint("users.list", Admin),
    endpoint("users.add", Admin),
    endpoint("users.revoke", Admin),
    endpoint("dashboard_links.get", Viewer),
];

/// The subject of `endpoint`.
pub fn endpoint_subject(endpoint: &str) -> String {
    format!("{}.{endpoint}", events::subject::API_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the server lets each role publish must match what the hub lets it call: a viewer exactly the reads, an
    /// operator everything but the admin endpoints.
    #[test]
    fn the_server_side_split_matches_the_roles() {
        for e in ENDPOINTS {
            let read = e.name.ends_with(".list") || e.name.ends_with(".get");
            if e.name.starts_with("users.") {
                assert_eq!(e.role, Admin, "{}", e.name);
            } else if read {
                assert_eq!(e.role, Viewer, "{}", e.name);
            } else {
                assert_ne!(e.role, Viewer, "{}", e.name);
            }
        }
    }
}
