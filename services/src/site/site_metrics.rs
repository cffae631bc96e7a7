//! What a site serves on `/metrics` (`--metrics-listen`): its hub link, its nodes by state, its telemetry stream
//! (what it holds, and what its limits discarded — delivered or not; the hub counts what was lost), quarantined
//! messages and the latency of the site's own appends. Read at the moment of the scrape.

use super::hub_beacon::HubLink;
use crate::process_metrics::{append_latency_family, nodes_by_state, quarantined_family};
use events::Token;
use replay::Projection;
use std::rc::Rc;
use std::sync::Arc;
use telemetry::exposition::{render, Family, FamilyType};

/// What a site scrape reads.
pub struct SiteMetrics {
    /// This site.
    pub site: Token,
    /// The site's projection.
    pub projection: Arc<Projection>,
    /// What the beacons say of the hub link.
    pub link: Rc<HubLink>,
    /// The site's JetStream (its telemetry stream's state).
    pub js: async_nats::jetstream::Context,
}

impl SiteMetrics {
    /// The exposition text now.
    pub async fn render(&self) -> String {
        let site = [("site", self.site.as_str())];
        let mut families = vec![Family::new(
            "edgefleet_hub_link_up",
            "1 if the hub answered the site's last beacon.",
            FamilyType::Gauge,
        )
        .sample(&site, if self.link.up.get() { 1.0 } else { 0.0 })];
        if let Some(at) = self.link.last_answer.get() {
            families.push(
                Family::new(
                    "edgefleet_hub_last_answer_age_seconds",
                    "Seconds since the hub last answered a beacon.",
                    FamilyType::Gauge,
                )
                .sample(&site, at.elapsed().as_secs_f64()),
            );
        }
        families.push(self.projection.read(|fleet| nodes_by_state(fleet, Some(&self.site))));
        let stream = events::subject::telemetry_stream(&self.site);
        match telemetry::telemetry_streams::stream_state(&self.js, &stream).await {
            Ok(Some(state)) => {
                let held = (state.last_seq + 1).saturating_sub(state.first_seq.max(1));
                families.push(
                    Family::new(
                        "edgefleet_telemetry_stream_bytes",
                        "Bytes the site's telemetry stream holds.",
                        FamilyType::Gauge,
                    )
                    .sample(&site, state.bytes as f64),
                );
                families.push(
                    Family::new(
                        "edgefleet_telemetry_stream_batches",
                        "Metric batches the site's telemetry stream holds.",
                        FamilyType::Gauge,
                    )
                    .sample(&site, held as f64),
                );
                families.push(
                    Family::new(
                        "edgefleet_telemetry_discarded_batches_total",
                        "Batches the site's telemetry limits (bytes, age) removed, delivered or not; the hub counts \
                         those it never copied (edgefleet_telemetry_dropped_batches_total).",
                        FamilyType::Counter,
                    )
                    .sample(&site, state.first_seq.saturating_sub(1) as f64),
                );
                if state.first_unix_ms > 0 && held > 0 {
                    let age = (actors::process_clock::system_wall_ms() as i64 - state.first_unix_ms).max(0);
                    families.push(
                        Family::new(
                            "edgefleet_telemetry_oldest_batch_age_seconds",
                            "Age of the oldest batch the site still holds.",
                            FamilyType::Gauge,
                        )
                        .sample(&site, age as f64 / 1000.0),
                    );
                }
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "telemetry stream state not read for /metrics"),
        }
        families.push(quarantined_family(self.projection.quarantine()));
        families.push(append_latency_family());
        render(&families)
    }
}
