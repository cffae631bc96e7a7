//! One node: where it is and what it runs, and its recent load, CPU and memory as sparklines.

use super::fleet_tables::role_text;
use super::layout::or_dash;
use super::sparkline::sparkline;
use crate::api_types::node_samples::NodeSamplesView;
use crate::api_types::views::NodeView;
use crate::hub::dashboard::attention::ago;
use maud::{html, Markup};

/// The node page; `samples` is what its site's telemetry held over the last `minutes`.
pub fn node(node: &NodeView, samples: &NodeSamplesView, minutes: u32) -> Markup {
    html! {
        h1 { "Node " (node.id) " at " (node.site) }
        dl.facts {
            dt { "State" } dd id="node-state" { (node.state) @if node.silent { " (silent)" } }
            dt { "Cluster" } dd { (or_dash(node.cluster.as_ref())) }
            dt { "Role" } dd { (or_dash(node.role.map(role_text))) }
            dt { "OS" } dd {
                (or_dash(node.os_version.as_ref()))
                @if let Some(slot) = node.os_slot { " (ROOT-" (format!("{slot:?}")) ")" }
            }
            @if let Some(to) = &node.os_updating_to { dt { "Updating to" } dd { (to) } }
            @if let Some(failed) = &node.os_last_failure { dt { "Last OS update" } dd.bad { (failed) } }
            @if let Some(failure) = &node.failure { dt { "Failure" } dd.bad { (failure) } }
            dt { "Last heartbeat" } dd { (or_dash(node.last_heartbeat_ms_ago.map(|ms| format!("{} ago", ago(ms))))) }
            @if let Some(inventory) = &node.inventory {
                dt { "Hardware" } dd { (inventory.cpu_count) " CPUs, " (inventory.memory_bytes / (1 << 20)) " MiB" }
            }
        }
        h2 { "Last " (minutes) " minutes" }
        div.sparklines {
            @for series in &samples.series { (sparkline(series, minutes)) }
        }
        p { a href=(format!("/history?aggregate=node/{}/{}", node.site, node.id)) { "History, event by event" } }
    }
}
