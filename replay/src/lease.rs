//! A lease kept in a JetStream key-value bucket, so that of several hub processes exactly one runs a single-writer
//! loop (the rollout orchestrator) at a time: the holder renews it before it expires; another process takes it over
//! only once it has expired by a margin, and every write is a compare-and-set on the key's revision, so two
//! contenders never both hold it.
//!
//! [`next_step`] decides, a plain function over plain data; [`Lease`] reads and writes the key. Time is passed in
//! (milliseconds since the epoch, the holder's wall clock): hub machines are expected to keep NTP time, and the
//! margin covers the skew between them.

use async_nats::jetstream::context::Context;
use async_nats::jetstream::kv::{self, Operation};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Who holds a lease, and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// The holder's name (a hub process).
    pub holder: String,
    /// When the lease runs out unless renewed, ms since the epoch on the holder's clock.
    pub expires_unix_ms: u64,
}

/// What a contender does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseStep {
    /// Nobody holds it, or its holder let it run out: take it.
    Acquire,
    /// It is ours: extend it.
    Renew,
    /// Someone else holds it: try again later.
    Wait {
        /// The holder.
        holder: String,
    },
}

/// What `me` does about a lease whose record is `current`, at `now_unix_ms`; another holder's lease is taken over
/// only `margin_ms` after it ran out.
pub fn next_step(current: Option<&LeaseRecord>, me: &str, now_unix_ms: u64, margin_ms: u64) -> LeaseStep {
    match current {
        None => LeaseStep::Acquire,
        Some(record) if record.holder == me => LeaseStep::Renew,
        Some(record) if now_unix_ms >= record.expires_unix_ms.saturating_add(margin_ms) => LeaseStep::Acquire,
        Some(record) => LeaseStep::Wait {
            holder: record.holder.clone(),
        },
    }
}

/// Why the lease could not be read or written (a lost race is not an error: it is "not held").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lease {key}: {reason}")]
pub struct LeaseError {
    /// The key.
    pub key: String,
    /// What failed.
    pub reason: String,
}

/// One lease (`key`) in the bucket `bucket`, contended for as `me`.
pub struct Lease {
    store: kv::Store,
    key: String,
    me: String,
    ttl: Duration,
}

impl Lease {
    /// Opens (creating if missing) the bucket with `replicas` copies, for the lease `key` held as `me` for `ttl`
    /// at a time.
    pub async fn open(
        js: &Context,
        bucket: &str,
        replicas: usize,
        key: &str,
        me: &str,
        ttl: Duration,
    ) -> Result<Self, LeaseError> {
        let failed = |e: &dyn std::fmt::Display| LeaseError {
            key: key.to_string(),
            reason: e.to_string(),
        };
        let store = match js.get_key_value(bucket).await {
            Ok(store) => store,
            Err(_) => js
                .create_key_value(kv::Config {
                    bucket: bucket.to_string(),
                    history: 1,
                    num_replicas: replicas.max(1),
                    storage: async_nats::jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(|e| failed(&e))?,
        };
        Ok(Self {
            store,
            key: key.to_string(),
            me: me.to_string(),
            ttl,
        })
    }

    /// Takes or renews the lease if it is free, ours, or run out; returns until when (ms since the epoch) it is
    /// ours, or `None` if another process holds it or won the race for it. A holder that gets `None`, or cannot
    /// renew before its lease runs out, must stop its loop.
    pub async fn try_hold(&self, now_unix_ms: u64) -> Result<Option<u64>, LeaseError> {
        let failed = |e: &dyn std::fmt::Display| LeaseError {
            key: self.key.clone(),
            reason: e.to_string(),
        };
        let entry = self.store.entry(self.key.as_str()).await.map_err(|e| failed(&e))?;
        let (current, revision) = match &entry {
            Some(e) if e.operation == Operation::Put => {
                // A record that does not parse is treated as run out: it can only be replaced by compare-and-set.
                (serde_json::from_slice::<LeaseRecord>(&e.value).ok(), Some(e.revision))
            }
            Some(e) => (None, Some(e.revision)),
            None => (None, None),
        };
        let margin_ms = (self.ttl.as_millis() as u64) / 2;
        match next_step(current.as_ref(), &self.me, now_unix_ms, margin_ms) {
            LeaseStep::Wait { .. } => Ok(None),
            LeaseStep::Acquire | LeaseStep::Renew => {
                let expires_unix_ms = now_unix_ms + self.ttl.as_millis() as u64;
                let record = LeaseRecord {
                    holder: self.me.clone(),
                    expires_unix_ms,
                };
                let bytes = serde_json::to_vec(&record).map_err(|e| failed(&e))?;
                let written = match revision {
                    Some(revision) => self
                        .store
                        .update(self.key.as_str(), bytes.into(), revision)
                        .await
                        .map_err(|e| (e.kind() == kv::UpdateErrorKind::WrongLastRevision, e.to_string())),
                    None => self
                        .store
                        .create(self.key.as_str(), bytes.into())
                        .await
                        .map_err(|e| (e.kind() == kv::CreateErrorKind::AlreadyExists, e.to_string())),
                };
                match written {
                    Ok(_) => Ok(Some(expires_unix_ms)),
                    Err((true, _)) => Ok(None), // another contender wrote first
                    Err((false, reason)) => Err(failed(&reason)),
                }
            }
        }
    }
}

impl Lease {
    /// Lets the lease go if this contender holds it, so another may take it at once (a record that ran out at the
    /// epoch is past any margin). Holding nothing, or losing a race, is not an error.
    pub async fn release(&self) -> Result<(), LeaseError> {
        let failed = |e: &dyn std::fmt::Display| LeaseError {
            key: self.key.clone(),
            reason: e.to_string(),
        };
        let Some(entry) = self.store.entry(self.key.as_str()).await.map_err(|e| failed(&e))? else {
            return Ok(());
        };
        let ours = entry.operation == Operation::Put
            && serde_json::from_slice::<LeaseRecord>(&entry.value).is_ok_and(|record| record.holder == self.me);
        if !ours {
            return Ok(());
        }
        let record = LeaseRecord {
            holder: self.me.clone(),
            expires_unix_ms: 0,
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| failed(&e))?;
        match self.store.update(self.key.as_str(), bytes.into(), entry.revision).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(()),
            Err(e) => Err(failed(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_by(holder: &str, until: u64) -> LeaseRecord {
        LeaseRecord {
            holder: holder.into(),
            expires_unix_ms: until,
        }
    }

    #[test]
    fn a_free_lease_is_taken_and_ours_is_renewed() {
        assert_eq!(next_step(None, "hub-a", 1_000, 500), LeaseStep::Acquire);
        assert_eq!(
            next_step(Some(&held_by("hub-a", 900)), "hub-a", 1_000, 500),
            LeaseStep::Renew
        );
    }

    #[test]
    fn another_holders_lease_is_taken_over_only_a_margin_after_it_ran_out() {
        let theirs = held_by("hub-b", 10_000);
        let wait = LeaseStep::Wait { holder: "hub-b".into() };
        assert_eq!(next_step(Some(&theirs), "hub-a", 9_000, 500), wait);
        assert_eq!(
            next_step(Some(&theirs), "hub-a", 10_400, 500),
            wait,
            "run out, but within the margin"
        );
        assert_eq!(next_step(Some(&theirs), "hub-a", 10_500, 500), LeaseStep::Acquire);
    }
}
