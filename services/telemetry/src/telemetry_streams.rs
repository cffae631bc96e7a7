//! The telemetry streams: `EF_TEL_<site>` at the site (`ef.tel.<site>.>`), bounded by bytes and age, and the hub's
//! copy of it, sourced over the leaf link like the site's event stream. Neither is history: limits discard the
//! oldest batches, and what they discard before the hub copied it shows up as a gap in the copy's origin sequences
//! (the hub's forwarder), never as a silent hole.

use async_nats::jetstream::context::Context;
use async_nats::jetstream::stream::{
    Config, DiscardPolicy, External, PersistenceMode, RetentionPolicy, Source, StorageType,
};
use events::subject::{telemetry_stream, telemetry_subjects};
use events::Token;
use std::time::Duration;

/// How much telemetry a site keeps while its hub is unreachable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelemetryLimits {
    /// Byte cap (JetStream reserves it from the store when the stream is created).
    pub max_bytes: i64,
    /// Batches older than this are discarded.
    pub max_age: Duration,
}

/// 1 GiB: a 10-node site of 124 series per node (this machine's shape), sampled every 15 s, writes about
/// 10 × 5,760 batches of 1.8 KB a day (13.3 bytes per sample plus the message's own overhead, `edgefleet-bench`),
/// some 100 MB a day; 1 GiB holds about ten days of it.
pub const DEFAULT_MAX_BYTES: i64 = 1 << 30;
/// Eight days: a week offline and a day to deliver it.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(8 * 24 * 3600);

impl Default for TelemetryLimits {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

/// Why a telemetry stream could not be set up or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("telemetry stream {stream}: {reason}")]
pub struct TelemetryStreamError {
    /// The stream.
    pub stream: String,
    /// What failed.
    pub reason: String,
}

fn failed(stream: &str, reason: impl ToString) -> TelemetryStreamError {
    TelemetryStreamError {
        stream: stream.to_string(),
        reason: reason.to_string(),
    }
}

/// At the site: `EF_TEL_<site>` on `ef.tel.<site>.>`, discarding its oldest batches at `limits`.
pub async fn ensure_site_telemetry_stream(
    js: &Context,
    site: &Token,
    limits: TelemetryLimits,
) -> Result<(), TelemetryStreamError> {
    let name = telemetry_stream(site);
    create_or_update(
        js,
        Config {
            name: name.clone(),
            subjects: vec![telemetry_subjects(site)],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            max_bytes: limits.max_bytes,
            max_age: limits.max_age,
            // An agent resends a batch whose answer it missed; the same node and instant is stored once.
            duplicate_window: Duration::from_secs(10 * 60),
            allow_direct: true,
            ..Default::default()
        },
    )
    .await
}

/// The source of the hub's copy: the site's own `EF_TEL_<site>` in JetStream domain `<site>`.
pub fn hub_copy_source(site: &Token) -> Source {
    Source {
        name: telemetry_stream(site),
        external: Some(External {
            api_prefix: format!("$JS.{site}.API"),
            delivery_prefix: None,
        }),
        ..Default::default()
    }
}

/// At the hub, in the site's account: the copy of `EF_TEL_<site>`, bounded by age only (`limits.max_age`). A byte
/// cap would be reserved up front from the hub's store for every site (JetStream reserves a stream's cap when it is
/// created): 1,000 sites × 1 GiB is more than a hub's disk, where what the copies really hold is what arrived in
/// the last `max_age` — about 100 MB a day for a 10-node site. Written without fsync per write, as the event copies
/// are: what a crash takes from its tail the source copies again from the site.
pub async fn ensure_hub_telemetry_copy(
    js: &Context,
    site: &Token,
    limits: TelemetryLimits,
) -> Result<(), TelemetryStreamError> {
    let name = telemetry_stream(site);
    let persist_mode = match js.get_stream(&name).await {
        Ok(mut existing) => existing.info().await.map_err(|e| failed(&name, e))?.config.persist_mode,
        Err(_) => Some(PersistenceMode::Async),
    };
    create_or_update(
        js,
        Config {
            name: name.clone(),
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            max_age: limits.max_age,
            allow_direct: true,
            persist_mode,
            sources: Some(vec![hub_copy_source(site)]),
            ..Default::default()
        },
    )
    .await
}

/// What a telemetry stream holds now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamState {
    /// Its first sequence (everything before was discarded by a limit).
    pub first_seq: u64,
    /// Its last sequence.
    pub last_seq: u64,
    /// Bytes held.
    pub bytes: u64,
    /// When its first message was stored, ms since the epoch (0 if empty).
    pub first_unix_ms: i64,
}

/// The state of `stream` (`None` if it does not exist).
pub async fn stream_state(js: &Context, stream: &str) -> Result<Option<StreamState>, TelemetryStreamError> {
    let mut handle = match js.get_stream(stream).await {
        Ok(handle) => handle,
        Err(e) => {
            if let async_nats::jetstream::context::GetStreamErrorKind::JetStream(err) = e.kind() {
                if err.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND {
                    return Ok(None);
                }
            }
            return Err(failed(stream, e));
        }
    };
    let state = handle.info().await.map_err(|e| failed(stream, e))?.state.clone();
    Ok(Some(StreamState {
        first_seq: state.first_sequence,
        last_seq: state.last_sequence,
        bytes: state.bytes,
        first_unix_ms: (state.first_timestamp.unix_timestamp_nanos() / 1_000_000) as i64,
    }))
}

/// Creates the stream, or updates it keeping its replication: never fewer replicas than it has, and its placement
/// (a clustered site's controller decides both; as `replay::stream_setup::keeping_replication`).
async fn create_or_update(js: &Context, mut config: Config) -> Result<(), TelemetryStreamError> {
    let name = config.name.clone();
    match js.get_stream(&name).await {
        Ok(mut existing) => {
            let existing = existing.info().await.map_err(|e| failed(&name, e))?.config.clone();
            config.num_replicas = config.num_replicas.max(existing.num_replicas);
            config.placement = config.placement.or(existing.placement);
            js.update_stream(&config)
                .await
                .map(|_| ())
                .map_err(|e| failed(&name, e))
        }
        Err(_) => js.create_stream(config).await.map(|_| ()).map_err(|e| failed(&name, e)),
    }
}
