//! Creates the event streams idempotently at start-up (create, or update to the wanted config).
//!
//! Durability: these are the streams that hold history, so servers holding them run with
//! `jetstream { sync_interval: always }` (fsync per write; see docs/ARCHITECTURE.md for the measured cost).

use async_nats::jetstream::context::{Context, CreateStreamErrorKind};
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::ErrorCode;
use events::{subject, Token};
use std::time::Duration;

/// The default byte cap of a site stream: 1 GiB, some three million events of a few hundred bytes — years of a
/// busy site's history — while fitting a small edge disk (JetStream reserves it when the stream is created).
pub const DEFAULT_SITE_MAX_BYTES: i64 = 1 << 30;

/// Retention and dedup settings for the event streams.
#[derive(Clone, Debug)]
pub struct StreamPolicy {
    /// How long a site keeps its own events: far beyond the longest outage promised, so hub sourcing can always
    /// resume from where it stopped.
    pub site_max_age: Duration,
    /// Byte cap of a site stream (-1 = none). JetStream reserves it up front from the store's limit (by default
    /// 75% of the disk free when the server started), so it must fit the site's disk.
    pub site_max_bytes: i64,
    /// Window in which a retried append with the same event id is deduplicated.
    pub duplicate_window: Duration,
    /// Copies of the intent stream kept by a clustered hub (1 on a single server, 3 on a three-server cluster).
    pub intent_replicas: usize,
}

impl Default for StreamPolicy {
    fn default() -> Self {
        Self {
            site_max_age: Duration::from_secs(90 * 24 * 3600),
            site_max_bytes: DEFAULT_SITE_MAX_BYTES,
            duplicate_window: Duration::from_secs(10 * 60),
            intent_replicas: 1,
        }
    }
}

/// Why a stream could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamSetupError {
    /// The server refused or did not answer.
    #[error("could not create or update stream {stream}: {reason}")]
    Failed {
        /// The stream.
        stream: String,
        /// Server message.
        reason: String,
    },
    /// The server's store cannot reserve the stream's byte cap.
    #[error(
        "no room for stream {stream}: its byte cap of {max_bytes} bytes does not fit what the server's store has left \
         (JetStream reserves a stream's cap up front, from 75% of the disk free when the server started unless \
         max_file_store says otherwise); free disk space or give the stream a smaller cap"
    )]
    NoRoom {
        /// The stream.
        stream: String,
        /// The cap asked for.
        max_bytes: i64,
    },
    /// The cluster has fewer servers able to hold the stream than its replicas.
    #[error("no room for stream {stream}: the cluster has fewer servers with JetStream than its {replicas} replicas")]
    NoPeers {
        /// The stream.
        stream: String,
        /// The replicas asked for.
        replicas: usize,
    },
    /// The stream already holds more than the new byte cap: applying it would discard the oldest events.
    #[error(
        "stream {stream} holds {held_bytes} bytes, more than the byte cap of {max_bytes} bytes it was given; \
         lowering the cap would discard its oldest events, so it is left as it is — give a cap of at least \
         {held_bytes} bytes"
    )]
    WouldDiscard {
        /// The stream.
        stream: String,
        /// Bytes it holds.
        held_bytes: u64,
        /// The cap asked for.
        max_bytes: i64,
    },
}

/// Creates the stream, or updates it to `config` if it exists (idempotent start-up).
///
/// On a cluster still forming, JetStream answers before it knows enough peers to place a replicated stream
/// ("no suitable peers for placement"): that is retried for up to [`PEERS_WITHIN`].
pub(crate) async fn create_or_update(js: &Context, config: Config) -> Result<(), StreamSetupError> {
    let started = std::time::Instant::now();
    loop {
        match create_or_update_once(js, config.clone()).await {
            Err(StreamSetupError::NoPeers { .. }) if started.elapsed() < PEERS_WITHIN => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            done => return done,
        }
    }
}

/// `config`, keeping what an existing stream of that name has of replication: never fewer replicas than it has, and
/// its placement when `config` names none. Set-up runs at every start of every process of a site; how many copies a
/// clustered site keeps and where is decided by its controller (`site::cluster_shape`), and a member restarting must
/// not take the streams back to one replica.
pub async fn keeping_replication(js: &Context, mut config: Config) -> Config {
    if let Ok(mut existing) = js.get_stream(&config.name).await {
        if let Ok(info) = existing.info().await {
            config.num_replicas = config.num_replicas.max(info.config.num_replicas);
            if config.placement.is_none() {
                config.placement = info.config.placement.clone();
            }
        }
    }
    config
}

/// How long stream set-up waits for a forming cluster to know enough peers.
const PEERS_WITHIN: Duration = Duration::from_secs(30);

async fn create_or_update_once(js: &Context, config: Config) -> Result<(), StreamSetupError> {
    let config = keeping_replication(js, config).await;
    let stream = config.name.clone();
    let max_bytes = config.max_bytes;
    let replicas = config.num_replicas;
    js.create_or_update_stream(config).await.map(|_| ()).map_err(|e| {
        let code = match e.kind() {
            CreateStreamErrorKind::JetStream(ref js_error) => Some(js_error.error_code()),
            _ => None,
        };
        if code == Some(ErrorCode::CLUSTER_NO_PEERS) {
            return StreamSetupError::NoPeers { stream, replicas };
        }
        let no_room = code == Some(ErrorCode::STORAGE_RESOURCES_EXCEEDED);
        if no_room {
            StreamSetupError::NoRoom { stream, max_bytes }
        } else {
            StreamSetupError::Failed {
                stream,
                reason: e.to_string(),
            }
        }
    })
}

/// Refuses a byte cap below what `stream` already holds (a smaller cap would silently discard its oldest events).
async fn refuse_discarding_cap(js: &Context, stream: &str, max_bytes: i64) -> Result<(), StreamSetupError> {
    let Ok(mut handle) = js.get_stream(stream).await else {
        return Ok(()); // not there yet: created below
    };
    let held_bytes = handle
        .info()
        .await
        .map_err(|e| StreamSetupError::Failed {
            stream: stream.to_string(),
            reason: e.to_string(),
        })?
        .state
        .bytes;
    match u64::try_from(max_bytes) {
        Ok(cap) if cap < held_bytes => Err(StreamSetupError::WouldDiscard {
            stream: stream.to_string(),
            held_bytes,
            max_bytes,
        }),
        _ => Ok(()),
    }
}

/// The hub's intent stream `EF_INTENT` (`ef.intent.>`): kept forever; intents are small and are the history.
pub async fn ensure_intent_stream(js: &Context, policy: &StreamPolicy) -> Result<(), StreamSetupError> {
    create_or_update(
        js,
        Config {
            name: subject::INTENT_STREAM.to_string(),
            subjects: vec![subject::INTENT_SUBJECTS.to_string()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            duplicate_window: policy.duplicate_window,
            num_replicas: policy.intent_replicas.max(1),
            allow_direct: true,
            ..Default::default()
        },
    )
    .await
}

/// A site's own stream `EF_SITE_<site>` (`ef.site.<site>.>`), written only at that site.
/// Refuses a cap smaller than what the stream already holds ([`StreamSetupError::WouldDiscard`]) and says so
/// plainly when the store cannot reserve the cap ([`StreamSetupError::NoRoom`]).
pub async fn ensure_site_stream(js: &Context, site: &Token, policy: &StreamPolicy) -> Result<(), StreamSetupError> {
    refuse_discarding_cap(js, &subject::site_stream(site), policy.site_max_bytes).await?;
    create_or_update(
        js,
        Config {
            name: subject::site_stream(site),
            subjects: vec![subject::site_subjects(site)],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            max_age: policy.site_max_age,
            max_bytes: policy.site_max_bytes,
            duplicate_window: policy.duplicate_window,
            allow_direct: true,
            ..Default::default()
        },
    )
    .await
}
