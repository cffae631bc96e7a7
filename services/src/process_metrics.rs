//! The `/metrics` families every process serves alike: nodes by state, quarantined messages, append latency; and
//! the flags that turn `/metrics` on. Read at the moment of the scrape.

use actors::fleet_state::FleetState;
use anyhow::Context;
use events::Token;
use replay::Quarantine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use telemetry::exposition::{Family, FamilyType, HistogramValues};
use telemetry::metrics_server::MetricsListener;

/// `--metrics-listen` and `--metrics-token-file`.
#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// Serve `/metrics` for Prometheus to scrape on HOST:PORT (off unless given). Beyond 127.0.0.1 it needs
    /// --metrics-token-file.
    #[arg(long, env = "EDGEFLEET_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// A file holding the bearer token scrapes must present (`Authorization: Bearer …`; Prometheus:
    /// `authorization: { credentials_file: FILE }`).
    #[arg(long, env = "EDGEFLEET_METRICS_TOKEN_FILE", value_parser = crate::cli::absolute_path)]
    pub metrics_token_file: Option<PathBuf>,
    /// Serve `/metrics` over HTTPS with this process's own server certificate (the one its nats-server presents;
    /// Prometheus: `scheme: https`, `tls_config: { ca_file: … }`). Needed, with a token, beyond 127.0.0.1.
    #[arg(long, env = "EDGEFLEET_METRICS_TLS")]
    pub metrics_tls: bool,
}

impl MetricsArgs {
    /// The bound listener, if `/metrics` was asked for.
    pub async fn bind(&self) -> anyhow::Result<Option<MetricsListener>> {
        let Some(addr) = &self.metrics_listen else {
            return Ok(None);
        };
        let token = match &self.metrics_token_file {
            Some(file) => {
                let token = std::fs::read_to_string(file)
                    .with_context(|| format!("reading --metrics-token-file {}", file.display()))?
                    .trim()
                    .to_string();
                anyhow::ensure!(!token.is_empty(), "--metrics-token-file {} is empty", file.display());
                Some(token)
            }
            None => None,
        };
        let listener = MetricsListener::bind(addr, token, self.metrics_tls).await?;
        Ok(Some(listener))
    }

    /// Adds TLS with `cert` and `key` if --metrics-tls asked for it, and says where metrics are served.
    pub fn secure(&self, listener: MetricsListener, cert: &Path, key: &Path) -> anyhow::Result<MetricsListener> {
        let listener = if self.metrics_tls {
            listener.with_tls(cert, key)?
        } else {
            listener
        };
        if let Some(at) = listener.local_addr() {
            println!("metrics on {}://{at}/metrics", listener.scheme());
        }
        Ok(listener)
    }
}

/// `edgefleet_nodes{state}` (and `site`), over every node of `fleet` (of `site` only, if given).
pub fn nodes_by_state(fleet: &FleetState, site: Option<&Token>) -> Family {
    let mut counts: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    for (node_site, _, node) in fleet.nodes_from(None, site) {
        *counts
            .entry((node_site.to_string(), node.lifecycle().as_str()))
            .or_default() += 1;
    }
    let mut family = Family::new(
        "edgefleet_nodes",
        "Nodes by site and lifecycle state, as the log says.",
        FamilyType::Gauge,
    );
    for ((site, state), n) in counts {
        family.push(&[("site", site.as_str()), ("state", state)], n as f64);
    }
    family
}

/// `edgefleet_quarantined_messages{stream}`: messages this process could not read and set aside.
pub fn quarantined_family(quarantine: &Quarantine) -> Family {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for entry in quarantine.entries() {
        *counts.entry(entry.stream.clone()).or_default() += 1;
    }
    let mut family = Family::new(
        "edgefleet_quarantined_messages",
        "Messages of each stream this process could not read and quarantined (edgefleet quarantine ls).",
        FamilyType::Gauge,
    );
    for (stream, n) in counts {
        family.push(&[("stream", stream.as_str())], n as f64);
    }
    family
}

/// `edgefleet_append_latency_seconds`: this process's event appends, publish to acknowledgement.
pub fn append_latency_family() -> Family {
    let snapshot = replay::append_latency::append_latency().snapshot();
    Family::new(
        "edgefleet_append_latency_seconds",
        "Event appends of this process, from publish to the server's acknowledgement.",
        FamilyType::Histogram,
    )
    .histogram(
        &[],
        HistogramValues {
            buckets: snapshot.buckets,
            sum: snapshot.sum_seconds,
            count: snapshot.count,
        },
    )
}
