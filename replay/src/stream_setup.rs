//! Creates the event streams idempotently at start-up (create, or update to the wanted config).
//!
//! Durability: these are the streams that hold history, so servers holding them run with
//! `jetstream { sync_interval: always }` (fsync per write; see docs/ARCHITECTURE.md for the measured cost).

use async_nats::jetstream::context::Context;
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
use events::{subject, Token};
use std::time::Duration;

/// Retention and dedup settings for the event streams.
#[derive(Clone, Debug)]
pub struct StreamPolicy {
    /// How long a site keeps its own events: far beyond the longest outage promised, so hub sourcing can always
    /// resume from where it stopped.
    pub site_max_age: Duration,
    /// Byte cap of a site stream (-1 = none).
    pub site_max_bytes: i64,
    /// Window in which a retried append with the same event id is deduplicated.
    pub duplicate_window: Duration,
}

impl Default for StreamPolicy {
    fn default() -> Self {
        Self {
            site_max_age: Duration::from_secs(90 * 24 * 3600),
            site_max_bytes: 8 * 1024 * 1024 * 1024,
            duplicate_window: Duration::from_secs(10 * 60),
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
}

/// Creates the stream, or updates it to `config` if it exists (idempotent start-up).
pub(crate) async fn create_or_update(js: &Context, config: Config) -> Result<(), StreamSetupError> {
    let stream = config.name.clone();
    js.create_or_update_stream(config)
        .await
        .map(|_| ())
        .map_err(|e| StreamSetupError::Failed {
            stream,
            reason: e.to_string(),
        })
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
            allow_direct: true,
            ..Default::default()
        },
    )
    .await
}

/// A site's own stream `EF_SITE_<site>` (`ef.site.<site>.>`), written only at that site.
pub async fn ensure_site_stream(js: &Context, site: &Token, policy: &StreamPolicy) -> Result<(), StreamSetupError> {
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
