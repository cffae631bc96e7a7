//! Reads what the site's telemetry stream (`EF_TEL_<site>`) says about each rollout gate due at the site: the
//! metric batches of the updated cluster's nodes since the cluster was reported updated, judged by
//! `actors::gate_evaluation::evaluate_gate`. The site's own stream, so gates are judged with the hub gone.
//!
//! Remembers nothing but when each gate was last read (a rate limit, not state): which gates are due comes from
//! the projection and the samples from the stream, so a restarted site judges the same window again.

use actors::gate_evaluation::{evaluate_gate, GateSample, GateVerdict};
use actors::plan::DueGate;
use events::rollout::ClusterTarget;
use events::subject::telemetry_stream;
use events::Token;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use telemetry::metric_window::{read_metric_window, MetricWindow};

/// A gate is read again at most this often.
const EVERY: Duration = Duration::from_secs(5);
/// Batches stored up to this long before the window opened are read too (agent and site clocks differ; samples
/// are judged by their own time).
const CLOCK_SLACK_MS: u64 = 5 * 60 * 1000;
/// Most batches read for one gate in one pass; a window needing more is read on (and judged) in later passes.
const MAX_BATCHES: usize = 20_000;

type GateKey = (Token, ClusterTarget);

/// Judges due gates from the site's telemetry stream.
pub struct GateSamples {
    site: Token,
    js: async_nats::jetstream::Context,
    last_read: RefCell<BTreeMap<GateKey, Instant>>,
}

impl GateSamples {
    /// Reads `site`'s telemetry stream through `js`.
    pub fn new(site: Token, js: async_nats::jetstream::Context) -> Self {
        Self {
            site,
            js,
            last_read: RefCell::new(BTreeMap::new()),
        }
    }

    /// The verdict of every gate in `due` that was not read in the last few seconds. A gate whose samples cannot
    /// be read now is left out (and logged): it stays due, and is read again.
    pub async fn verdicts(&self, due: &[DueGate]) -> BTreeMap<GateKey, GateVerdict> {
        let mut verdicts = BTreeMap::new();
        self.last_read
            .borrow_mut()
            .retain(|key, _| due.iter().any(|d| d.rollout == key.0 && d.cluster == key.1));
        for gate in due {
            let key = (gate.rollout.clone(), gate.cluster.clone());
            if self.last_read.borrow().get(&key).is_some_and(|at| at.elapsed() < EVERY) {
                continue;
            }
            self.last_read.borrow_mut().insert(key.clone(), Instant::now());
            match self.samples(gate).await {
                Ok(samples) => {
                    let verdict = evaluate_gate(&gate.gate, gate.since_unix_ms, &gate.members, samples);
                    tracing::debug!(rollout = %gate.rollout, cluster = %gate.cluster, ?verdict, "gate judged");
                    verdicts.insert(key, verdict);
                }
                Err(e) => tracing::warn!(
                    rollout = %gate.rollout, cluster = %gate.cluster, error = %e,
                    "cannot read the gate's samples; judging it later"
                ),
            }
        }
        verdicts
    }

    /// The samples of the gate's metric from the cluster's members, from batches stored since shortly before the
    /// window opened.
    async fn samples(&self, gate: &DueGate) -> Result<Vec<GateSample>, String> {
        if gate.members.is_empty() {
            return Ok(vec![]);
        }
        let stream = telemetry_stream(&self.site);
        let window = MetricWindow {
            stream: &stream,
            site: &self.site,
            nodes: &gate.members,
            stored_since_ms: gate.since_unix_ms.saturating_sub(CLOCK_SLACK_MS),
            max_batches: MAX_BATCHES,
        };
        let mut samples = Vec::new();
        for (node, batch) in read_metric_window(&self.js, &window).await? {
            let at_ms = u64::try_from(batch.at_ms).unwrap_or(0);
            samples.extend(
                batch
                    .points
                    .into_iter()
                    .filter(|p| p.name == gate.gate.metric)
                    .map(|p| GateSample {
                        node: node.clone(),
                        metric: p.name,
                        labels: p.labels,
                        at_ms,
                        value: p.value,
                    }),
            );
        }
        Ok(samples)
    }
}
