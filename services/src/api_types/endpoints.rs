//! The API's endpoints: `ef.api.v1.<resource>.<verb>`, and which of them only read.

/// Every endpoint, as `resource.verb` under `ef.api.v1`.
pub const ENDPOINTS: &[&str] = &[
    "sites.list",
    "sites.get",
    "sites.label",
    "nodes.list",
    "nodes.get",
    "nodes.assign",
    "nodes.unassign",
    "nodes.reset",
    "nodes.label",
    "profiles.apply",
    "profiles.list",
    "profiles.get",
    "clusters.create",
    "clusters.list",
    "clusters.get",
    "clusters.delete",
    "clusters.upgrade",
    "clusters.label",
    "rollouts.create",
    "rollouts.list",
    "rollouts.get",
    "rollouts.pause",
    "rollouts.resume",
    "rollouts.abort",
    "quarantine.list",
    "quarantine.get",
];

/// The subject of `endpoint`.
pub fn endpoint_subject(endpoint: &str) -> String {
    format!("{}.{endpoint}", events::subject::API_PREFIX)
}
