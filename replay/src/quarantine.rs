//! Quarantine: messages that could not be decoded (unknown version, corrupt bytes, invalid envelope) are
//! recorded with stream, sequence and reason, counted, and skipped — never panicked on, never dropped silently.

use crate::local_store::LocalStore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many leading bytes of a quarantined message are kept as evidence.
pub const FIRST_BYTES: usize = 32;

/// One quarantined message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedMessage {
    /// Stream it was read from.
    pub stream: String,
    /// Sequence in that stream.
    pub seq: u64,
    /// Subject it was published on.
    pub subject: String,
    /// Why it was quarantined.
    pub reason: String,
    /// Its first [`FIRST_BYTES`] bytes.
    pub first_bytes: Vec<u8>,
    /// Its full size in bytes.
    pub size: u64,
}

impl QuarantinedMessage {
    /// The message at `stream`/`seq` with its first bytes kept.
    pub fn new(stream: &str, seq: u64, subject: &str, reason: String, payload: &[u8]) -> Self {
        Self {
            stream: stream.to_string(),
            seq,
            subject: subject.to_string(),
            reason,
            first_bytes: payload[..payload.len().min(FIRST_BYTES)].to_vec(),
            size: payload.len() as u64,
        }
    }
}

/// The layout of quarantine records before first bytes were kept (still read from older stores).
#[derive(Deserialize)]
pub(crate) struct QuarantinedMessageV1 {
    pub(crate) stream: String,
    pub(crate) seq: u64,
    pub(crate) subject: String,
    pub(crate) reason: String,
}

impl From<QuarantinedMessageV1> for QuarantinedMessage {
    fn from(old: QuarantinedMessageV1) -> Self {
        Self {
            stream: old.stream,
            seq: old.seq,
            subject: old.subject,
            reason: old.reason,
            first_bytes: vec![],
            size: 0,
        }
    }
}

/// Records quarantined messages, in memory and (when given a [`LocalStore`]) durably.
#[derive(Clone, Default)]
pub struct Quarantine {
    entries: Arc<Mutex<BTreeMap<(String, u64), QuarantinedMessage>>>,
    seen: Arc<AtomicU64>,
    store: Option<LocalStore>,
}

impl std::fmt::Debug for Quarantine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quarantine")
            .field("count", &self.count())
            .finish_non_exhaustive()
    }
}

impl Quarantine {
    /// A quarantine kept in memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// A quarantine that also persists its records in `store`, starting with what the store already holds (so a
    /// restarted process still shows what it quarantined before).
    pub fn persisted(store: LocalStore) -> Self {
        let entries = match store.quarantined() {
            Ok(entries) => entries.into_iter().map(|m| ((m.stream.clone(), m.seq), m)).collect(),
            Err(e) => {
                tracing::error!(error = %e, "quarantine records not readable; starting empty");
                BTreeMap::new()
            }
        };
        Self {
            entries: Arc::new(Mutex::new(entries)),
            store: Some(store),
            ..Self::default()
        }
    }

    /// Records a message; a message already recorded (same stream and sequence) is counted once.
    pub fn record(&self, message: QuarantinedMessage) {
        tracing::warn!(
            stream = %message.stream, seq = message.seq, subject = %message.subject, reason = %message.reason,
            "event quarantined"
        );
        self.seen.fetch_add(1, Ordering::Relaxed);
        let key = (message.stream.clone(), message.seq);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.contains_key(&key) {
            return;
        }
        if let Some(store) = &self.store {
            if let Err(e) = store.record_quarantine(&message) {
                tracing::error!(error = %e, "quarantine record not persisted");
            }
        }
        entries.insert(key, message);
    }

    /// Distinct messages quarantined.
    pub fn count(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Quarantine hits including repeats (a message read twice counts twice).
    pub fn hits(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }

    /// One quarantined message.
    pub fn get(&self, stream: &str, seq: u64) -> Option<QuarantinedMessage> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(stream.to_string(), seq))
            .cloned()
    }

    /// Every distinct quarantined message, by stream and sequence.
    pub fn entries(&self) -> Vec<QuarantinedMessage> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}
