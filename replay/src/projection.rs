//! [`Projection`]: a process's one read model — a [`FleetState`] kept current by following streams with ordered
//! consumers (DESIGN §10). Reads and planners look here instead of asking the log; writers wait here for their own
//! appends (read-your-writes) instead of reading them back.
//!
//! Each followed stream has one task ([`follow`]) that consumes it from the projection's high-water mark forever,
//! decodes each message (quarantining what does not decode) and applies it. After an error (stream not there yet,
//! server restarting) it starts again from the new high-water mark, so nothing is applied twice and nothing is
//! skipped. Decides nothing.

use crate::message_decoder::decode_message;
use crate::quarantine::Quarantine;
use crate::quiet_timer::QuietTimer;
use crate::stream_reader::last_seq;
use actors::fleet_state::FleetState;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::context::Context;
use futures::StreamExt;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// Pause before following a stream again after an error.
const RETRY_MS: u64 = 500;
/// How long a follower may go without a message before it asks whether the stream moved on without it. With a
/// thousand ordered consumers on one connection, some were seen to stop delivering without an error (their
/// streams ahead of them); a follower that finds its stream ahead starts again from what it applied. A stream
/// found idle is asked again after twice as long, up to [`STALL_CHECK_MAX`], so a hub following a thousand quiet
/// copies asks a few dozen times a second, not hundreds.
const STALL_CHECK: Duration = Duration::from_secs(3);
/// The longest a quiet follower waits between two checks.
const STALL_CHECK_MAX: Duration = Duration::from_secs(30);

/// One process's projection of the streams it holds.
pub struct Projection {
    fleet: RwLock<FleetState>,
    version: watch::Sender<u64>,
    quarantine: Quarantine,
    followed: Mutex<BTreeSet<String>>,
}

impl std::fmt::Debug for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projection")
            .field("version", &*self.version.borrow())
            .finish_non_exhaustive()
    }
}

impl Projection {
    /// A projection starting from `fleet` (empty, or restored from a snapshot), quarantining into `quarantine`.
    pub fn new(fleet: FleetState, quarantine: Quarantine) -> Arc<Self> {
        Arc::new(Self {
            fleet: RwLock::new(fleet),
            version: watch::channel(0).0,
            quarantine,
            followed: Mutex::new(BTreeSet::new()),
        })
    }

    /// Runs `f` over the current state. Keep it short: followers wait while it runs.
    pub fn read<R>(&self, f: impl FnOnce(&FleetState) -> R) -> R {
        f(&self.fleet.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// A copy of the current state (for snapshots).
    pub fn snapshot(&self) -> FleetState {
        self.read(Clone::clone)
    }

    /// Bumps every time events are applied; planners wait on it.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// How many batches of events have been applied so far.
    pub fn version(&self) -> u64 {
        *self.version.borrow()
    }

    /// The highest sequence of `stream` applied (quarantined messages included).
    pub fn high_water(&self, stream: &str) -> u64 {
        self.read(|fleet| fleet.high_water.get(stream).copied().unwrap_or(0))
    }

    /// The quarantine this projection records into.
    pub fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }

    /// Streams being followed.
    pub fn followed(&self) -> BTreeSet<String> {
        self.followed.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Marks `stream` as followed; false if it already was (so a caller starts one follower per stream).
    pub fn claim(&self, stream: &str) -> bool {
        self.followed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(stream.to_string())
    }

    /// Waits until every `(stream, seq)` is applied, or `timeout` passes; true if they all were.
    pub async fn wait_for(&self, positions: &[(String, u64)], timeout: Duration) -> bool {
        let caught_up = || positions.iter().all(|(stream, seq)| self.high_water(stream) >= *seq);
        let mut changes = self.changes();
        let wait = async {
            while !caught_up() {
                if changes.changed().await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(timeout, wait).await.unwrap_or(false)
    }

    /// Applies one message read at `stream`/`seq` (or quarantines it) and tells the waiters.
    fn apply(&self, stream: &str, seq: u64, subject: &str, stored_unix_ms: u64, payload: &[u8]) {
        {
            let mut fleet = self.fleet.write().unwrap_or_else(|p| p.into_inner());
            if seq <= fleet.high_water.get(stream).copied().unwrap_or(0) {
                return; // already applied (a consumer restarted behind what was applied)
            }
            match decode_message(&self.quarantine, stream, seq, subject, stored_unix_ms, payload) {
                Some(events) => events.iter().for_each(|recorded| fleet.apply(recorded)),
                None => fleet.mark_scanned(stream, seq),
            }
        }
        self.version.send_modify(|v| *v += 1);
    }
}

/// Follows `stream` on the server behind `js` forever, from the projection's high-water mark. Spawn one per
/// stream (see [`Projection::claim`]); abort the task to stop.
pub async fn follow(projection: Arc<Projection>, js: Context, stream: String) {
    loop {
        let from = projection.high_water(&stream) + 1;
        match consume(&projection, &js, &stream, from).await {
            Ok(()) => tracing::debug!(%stream, "projection consumer ended; following again"),
            Err(e) => tracing::debug!(%stream, error = %e, "projection consumer interrupted; following again"),
        }
        tokio::time::sleep(Duration::from_millis(RETRY_MS)).await;
    }
}

async fn consume(projection: &Projection, js: &Context, stream: &str, from: u64) -> Result<(), String> {
    let handle = js.get_stream_no_info(stream).await.map_err(|e| e.to_string())?;
    let config = OrderedConfig {
        deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: from },
        ..Default::default()
    };
    let consumer = handle.create_consumer(config).await.map_err(|e| e.to_string())?;
    let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
    let mut quiet = QuietTimer::new(STALL_CHECK);
    loop {
        tokio::select! {
            biased;
            next = messages.next() => {
                let Some(next) = next else { return Ok(()) };
                let message = next.map_err(|e| e.to_string())?;
                let info = message.info().map_err(|e| e.to_string())?;
                let seq = info.stream_sequence;
                let stored_unix_ms = (info.published.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
                projection.apply(stream, seq, message.subject.as_str(), stored_unix_ms, &message.payload);
                quiet.heard();
                quiet.set_period(STALL_CHECK);
            }
            () = quiet.quiet() => {
                // Quiet for a while: fine if the stream has nothing new, a stalled consumer if it has.
                let last = last_seq(js, stream).await.map_err(|e| e.to_string())?.unwrap_or(0);
                let applied = projection.high_water(stream);
                if last > applied {
                    tracing::warn!(stream, applied, last, "projection consumer stalled; following again from what it applied");
                    return Err(format!(
                        "consumer stalled: applied through {applied}, the stream holds {last}; following again"
                    ));
                }
                quiet.set_period((quiet.period() * 2).min(STALL_CHECK_MAX));
            }
        }
    }
}
