//! Quarantine: messages that could not be decoded (unknown version, corrupt bytes, invalid envelope) are
//! recorded with stream, sequence and reason, counted, and skipped — never panicked on, never dropped silently.

use crate::local_store::LocalStore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

    /// A quarantine that also persists its records in `store`.
    pub fn persisted(store: LocalStore) -> Self {
        Self {
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
