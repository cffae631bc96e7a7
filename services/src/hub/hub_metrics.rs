//! What the hub serves on `/metrics` (`--metrics-listen`): every site's link, lag and copy, nodes by state,
//! rollout progress, telemetry delivery (backlog, delivered, refused, dropped), quarantined messages and the
//! latency of the hub's own appends. Read from the projection, the site directory and the telemetry cursors at
//! the moment of the scrape: nothing is kept for it.

use super::site_directory::SiteDirectory;
use super::telemetry_delivery::TelemetryDelivery;
use crate::process_metrics::{append_latency_family, nodes_by_state, quarantined_family};
use events::subject;
use replay::Projection;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use telemetry::exposition::{render, Family, FamilyType};

/// What a hub scrape reads.
pub struct HubMetrics {
    /// Sites and their links.
    pub directory: Rc<SiteDirectory>,
    /// The hub's projection.
    pub projection: Arc<Projection>,
    /// Telemetry delivery, as the cursor bucket says.
    pub telemetry: Rc<TelemetryDelivery>,
}

impl HubMetrics {
    /// The exposition text now.
    pub fn render(&self) -> String {
        let mut families = self.site_families();
        let (nodes, rollouts) = self.projection.read(|fleet| {
            let mut rollouts = Family::new(
                "edgefleet_rollout_clusters",
                "Clusters of each rollout by status (pending, updating, updated, failed, rolled-back, skipped).",
                FamilyType::Gauge,
            );
            for (id, rollout) in fleet.rollouts() {
                let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
                for (_, status) in rollout.cluster_statuses() {
                    *by_status.entry(status_name(&status)).or_default() += 1;
                }
                for (status, n) in by_status {
                    rollouts.push(&[("rollout", id.as_str()), ("status", status)], n as f64);
                }
            }
            (nodes_by_state(fleet, None), rollouts)
        });
        families.push(nodes);
        families.push(rollouts);
        families.extend(self.telemetry_families());
        families.push(quarantined_family(self.projection.quarantine()));
        families.push(append_latency_family());
        render(&families)
    }

    fn site_families(&self) -> Vec<Family> {
        let mut connected = Family::new(
            "edgefleet_site_connected",
            "1 if a beacon of the site arrived within the last 3 s.",
            FamilyType::Gauge,
        );
        let mut beacon_age = Family::new(
            "edgefleet_site_last_beacon_age_seconds",
            "Seconds since the site's last beacon (absent: never heard since this hub started).",
            FamilyType::Gauge,
        );
        let mut lag = Family::new(
            "edgefleet_site_replication_lag_events",
            "Site events not yet copied to the hub, as of the site's last beacon.",
            FamilyType::Gauge,
        );
        let mut copied = Family::new(
            "edgefleet_site_copied_events",
            "Site events the hub's copy holds.",
            FamilyType::Gauge,
        );
        for site in self.directory.sites() {
            let link = self.directory.link(&site).unwrap_or_default();
            let labels = [("site", site.as_str())];
            let held = self.projection.high_water(&subject::site_stream(&site));
            connected.push(&labels, if link.connected() { 1.0 } else { 0.0 });
            if let Some(at) = link.last_seen {
                beacon_age.push(&labels, at.elapsed().as_secs_f64());
            }
            lag.push(&labels, link.site_last_seq.saturating_sub(held) as f64);
            copied.push(&labels, held as f64);
        }
        vec![connected, beacon_age, lag, copied]
    }

    fn telemetry_families(&self) -> Vec<Family> {
        let mut backlog = Family::new(
            "edgefleet_telemetry_backlog_batches",
            "Metric batches the hub holds for an endpoint and has not delivered yet.",
            FamilyType::Gauge,
        );
        let mut delivered = Family::new(
            "edgefleet_telemetry_delivered_samples_total",
            "Samples delivered to the endpoint.",
            FamilyType::Counter,
        );
        let mut refused = Family::new(
            "edgefleet_telemetry_refused_samples_total",
            "Samples the endpoint refused for good (beyond its out-of-order window, malformed).",
            FamilyType::Counter,
        );
        let mut dropped = Family::new(
            "edgefleet_telemetry_dropped_batches_total",
            "Metric batches lost before delivery: discarded by the site's limit before the hub copied them \
             (where=site) or by the hub copy's limit before delivery (where=hub).",
            FamilyType::Counter,
        );
        for (site, records) in self.telemetry.records() {
            for record in records.values() {
                let labels = [("site", site.as_str()), ("endpoint", record.endpoint.as_str())];
                backlog.push(&labels, record.backlog as f64);
                delivered.push(&labels, record.cursor.delivered_samples as f64);
                refused.push(&labels, record.cursor.refused_samples as f64);
                for (place, n) in [
                    ("site", record.cursor.dropped.at_site),
                    ("hub", record.cursor.dropped.at_hub),
                ] {
                    dropped.push(
                        &[
                            ("site", site.as_str()),
                            ("endpoint", record.endpoint.as_str()),
                            ("where", place),
                        ],
                        n as f64,
                    );
                }
            }
        }
        vec![backlog, delivered, refused, dropped]
    }
}

fn status_name(status: &actors::rollout::ClusterRolloutStatus) -> &'static str {
    use actors::rollout::ClusterRolloutStatus as S;
    match status {
        S::Pending => "pending",
        S::Updating => "updating",
        S::Updated => "updated",
        S::Verifying { .. } => "verifying",
        S::GateBreached { .. } => "gate-breached",
        S::Failed { .. } => "failed",
        S::RolledBack => "rolled-back",
        S::Skipped { .. } => "skipped",
    }
}
