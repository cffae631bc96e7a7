//! The lists: sites, nodes, clusters, quarantined messages — each a table of the API's views, filtered as the
//! first screen's links say.

use super::layout::{or_dash, table};
use crate::api_types::views::{ClusterView, NodeView, QuarantineView, SiteView};
use crate::hub::dashboard::attention::{ago, name_of, NodeFilter, SiteFilter};
use maud::{html, Markup};

/// A node's role as the CLI writes it.
pub fn role_text(role: events::node::NodeRole) -> &'static str {
    match role {
        events::node::NodeRole::ControlPlane => "control-plane",
        events::node::NodeRole::Worker => "worker",
    }
}

fn labels(labels: &std::collections::BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn filter_links<F: Copy + PartialEq>(base: &str, names: &[(F, &'static str)], current: F) -> Markup {
    html! {
        nav.filters aria-label="Filters" {
            @for (filter, name) in names {
                @if *filter == current {
                    strong aria-current="page" { (name) }
                } @else {
                    a href=(format!("{base}?show={name}")) { (name) }
                }
                " "
            }
        }
    }
}

/// The sites list.
pub fn sites(sites: &[SiteView], filter: SiteFilter, now_unix_ms: u64) -> Markup {
    let rows = sites
        .iter()
        .filter(|s| filter.keeps(s))
        .map(|s| {
            let backlog: u64 = s.telemetry.iter().map(|t| t.backlog_batches).sum();
            html! {
                tr {
                    th scope="row" { a href=(format!("/nodes?site={}", s.site)) { (s.site) } }
                    td { (s.connection) }
                    td { (or_dash(s.last_seen_unix_ms.map(|t| format!("{} ago", ago(now_unix_ms.saturating_sub(t)))))) }
                    td { (s.replication_lag) " (" (s.copy) ")" }
                    td { (backlog) }
                    td { (or_dash(s.timezone.as_ref())) }
                    td { (labels(&s.labels)) }
                }
            }
        })
        .collect();
    html! {
        h1 { "Sites" }
        (filter_links("/sites", &SiteFilter::NAMES, filter))
        (table(
            &format!("Sites: {}", name_of(&SiteFilter::NAMES, filter)),
            &["Site", "Connection", "Last beacon", "Replication lag", "Telemetry backlog", "Time zone", "Labels"],
            rows,
        ))
    }
}

/// The nodes list (of one site if `site` is given).
pub fn nodes(nodes: &[NodeView], filter: NodeFilter, site: Option<&str>) -> Markup {
    let rows = nodes
        .iter()
        .filter(|n| filter.keeps(n) && site.is_none_or(|s| n.site == s))
        .map(|n| {
            let state = if n.silent {
                format!("{} (silent)", n.state)
            } else {
                n.state.to_string()
            };
            html! {
                tr {
                    td { (n.site) }
                    th scope="row" { a href=(format!("/nodes/{}/{}", n.site, n.id)) { (n.id) } }
                    td { (state) @if let Some(f) = &n.failure { br; small { (f) } } }
                    td { (or_dash(n.role.map(role_text))) }
                    td { (or_dash(n.cluster.as_ref())) }
                    td {
                        (or_dash(n.os_version.as_ref()))
                        @if let Some(slot) = n.os_slot { " (ROOT-" (format!("{slot:?}")) ")" }
                        @if let Some(to) = &n.os_updating_to { br; small { "updating to " (to) } }
                        @if let Some(failed) = &n.os_last_failure { br; small.bad { (failed) } }
                    }
                    td { (or_dash(n.last_heartbeat_ms_ago.map(|ms| format!("{} ago", ago(ms))))) }
                }
            }
        })
        .collect();
    let caption = match site {
        Some(site) => format!("Nodes of {site}: {}", name_of(&NodeFilter::NAMES, filter)),
        None => format!("Nodes: {}", name_of(&NodeFilter::NAMES, filter)),
    };
    html! {
        h1 { "Nodes" }
        (filter_links("/nodes", &NodeFilter::NAMES, filter))
        (table(&caption, &["Site", "Node", "State", "Role", "Cluster", "OS", "Last heartbeat"], rows))
    }
}

/// The clusters list: desired against running profile, members.
pub fn clusters(clusters: &[ClusterView]) -> Markup {
    let rows = clusters
        .iter()
        .map(|c| {
            let desired = c.profile.as_ref().map(ToString::to_string);
            let running = c.running_profile.as_ref().map(ToString::to_string);
            let drift = desired != running;
            html! {
                tr {
                    td { (c.site) }
                    th scope="row" { a href=(format!("/history?aggregate=cluster/{}/{}", c.site, c.id)) { (c.id) } }
                    td { (c.state) }
                    td { (or_dash(desired.as_ref())) }
                    td class=(if drift { "bad" } else { "" }) { (or_dash(running.as_ref())) @if drift { " (behind)" } }
                    td { (c.members.iter().map(|m| format!("{} ({})", m.node, role_text(m.role))).collect::<Vec<_>>().join(", ")) }
                    td { (c.apps.join(", ")) }
                }
            }
        })
        .collect();
    html! {
        h1 { "Clusters" }
        (table("Clusters", &["Site", "Cluster", "State", "Desired profile", "Running profile", "Members", "Apps"], rows))
    }
}

/// Quarantined messages.
pub fn quarantine(messages: &[QuarantineView]) -> Markup {
    let rows = messages
        .iter()
        .map(|m| {
            html! {
                tr {
                    th scope="row" { (m.stream) " #" (m.seq) }
                    td { (or_dash(m.site.as_ref())) }
                    td { (m.subject) }
                    td { (m.reason) }
                    td { (m.size) " B" }
                }
            }
        })
        .collect();
    html! {
        h1 { "Quarantined messages" }
        p { "Messages the hub could not read: kept aside, nothing else lost. " code { "edgefleet quarantine ls" } " shows the same." }
        (table("Quarantine", &["Message", "Site", "Subject", "Why", "Size"], rows))
    }
}
