//! [`CursorStore`]: the delivery cursors of every (site, endpoint), in a JetStream key-value bucket replicated like
//! the hub's other shared state, written by compare-and-set so two hubs that both think they forward cannot lose
//! each other's progress. Every hub watches the bucket for `sites ls` and `/metrics`.

use crate::forward_cursor::ForwardCursor;
use async_nats::jetstream::context::Context;
use async_nats::jetstream::kv::{self, Operation, Store};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use url::Url;

/// The bucket.
pub const CURSOR_BUCKET: &str = "ef-tel-cursors";

/// What is kept per (site, endpoint).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The endpoint, in words (credentials left out).
    pub endpoint: String,
    /// Where delivery stands.
    pub cursor: ForwardCursor,
    /// Batches in the hub's copy not delivered yet, as of `updated_unix_ms`.
    pub backlog: u64,
    /// When this record was written.
    pub updated_unix_ms: u64,
    /// Why the last write was to be retried, if it was (cleared by the next delivery).
    pub retrying: Option<String>,
}

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("telemetry cursors: {0}")]
pub struct CursorStoreError(pub String);

fn failed(e: impl std::fmt::Display) -> CursorStoreError {
    CursorStoreError(e.to_string())
}

/// The short, stable key of an endpoint (its URL without credentials, hashed).
pub fn endpoint_key(endpoint: &Url) -> String {
    let digest = Sha256::digest(shown(endpoint).as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// An endpoint as shown: without user and password.
pub fn shown(endpoint: &Url) -> String {
    let mut shown = endpoint.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// The key of a site's cursor for an endpoint (`<site>.<endpoint key>`).
pub fn record_key(site: &str, endpoint: &Url) -> String {
    format!("{site}.{}", endpoint_key(endpoint))
}

/// The cursor bucket.
#[derive(Clone)]
pub struct CursorStore {
    store: Store,
}

impl CursorStore {
    /// Opens (creating if missing) the bucket with `replicas` copies.
    pub async fn open(js: &Context, replicas: usize) -> Result<Self, CursorStoreError> {
        let store = match js.get_key_value(CURSOR_BUCKET).await {
            Ok(store) => store,
            Err(_) => js
                .create_key_value(kv::Config {
                    bucket: CURSOR_BUCKET.to_string(),
                    history: 1,
                    num_replicas: replicas.max(1),
                    storage: async_nats::jetstream::stream::StorageType::File,
                    ..Default::default()
                })
                .await
                .map_err(failed)?,
        };
        Ok(Self { store })
    }

    /// The record under `key` and its revision (`None`: nothing delivered yet). A record that does not parse is
    /// an error, never a silent restart from the beginning.
    pub async fn load(&self, key: &str) -> Result<Option<(DeliveryRecord, u64)>, CursorStoreError> {
        match self.store.entry(key).await.map_err(failed)? {
            Some(entry) if entry.operation == Operation::Put => {
                let record = serde_json::from_slice(&entry.value)
                    .map_err(|e| failed(format!("{key}: the stored cursor does not parse: {e}")))?;
                Ok(Some((record, entry.revision)))
            }
            _ => Ok(None),
        }
    }

    /// Writes `record` under `key` if it is still at `revision` (`None`: if it does not exist yet). Returns the
    /// new revision, or `None` if another writer got there first (reload and plan again).
    pub async fn save(
        &self,
        key: &str,
        record: &DeliveryRecord,
        revision: Option<u64>,
    ) -> Result<Option<u64>, CursorStoreError> {
        let value: bytes::Bytes = serde_json::to_vec(record).map_err(failed)?.into();
        match revision {
            Some(revision) => match self.store.update(key, value, revision).await {
                Ok(revision) => Ok(Some(revision)),
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(None),
                Err(e) => Err(failed(e)),
            },
            None => match self.store.create(key, value).await {
                Ok(revision) => Ok(Some(revision)),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
                Err(e) => Err(failed(e)),
            },
        }
    }

    /// Every record now, then every change, into `into` (site → endpoint key → record) until the watch ends.
    pub async fn follow(
        &self,
        into: impl Fn(BTreeMap<String, BTreeMap<String, DeliveryRecord>>),
    ) -> Result<(), CursorStoreError> {
        let mut all: BTreeMap<String, BTreeMap<String, DeliveryRecord>> = BTreeMap::new();
        let mut watch = self.store.watch_with_history(">").await.map_err(failed)?;
        while let Some(entry) = watch.next().await {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    tracing::debug!(error = %e, "telemetry cursor watch hiccup");
                    continue;
                }
            };
            let Some((site, endpoint)) = entry.key.split_once('.') else {
                continue;
            };
            match entry.operation {
                Operation::Put => match serde_json::from_slice::<DeliveryRecord>(&entry.value) {
                    Ok(record) => {
                        all.entry(site.to_string())
                            .or_default()
                            .insert(endpoint.to_string(), record);
                    }
                    Err(e) => tracing::warn!(key = %entry.key, error = %e, "a telemetry cursor does not parse"),
                },
                Operation::Delete | Operation::Purge => {
                    if let Some(endpoints) = all.get_mut(site) {
                        endpoints.remove(endpoint);
                    }
                }
            }
            into(all.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_keyed_without_their_credentials() {
        let plain = Url::parse("http://tsdb:9090/api/v1/write").expect("url");
        let with_user = Url::parse("http://ops:secret@tsdb:9090/api/v1/write").expect("url");
        assert_eq!(endpoint_key(&plain), endpoint_key(&with_user));
        assert_eq!(shown(&with_user), "http://tsdb:9090/api/v1/write");
        assert_eq!(endpoint_key(&plain).len(), 12);
        assert_ne!(
            endpoint_key(&plain),
            endpoint_key(&Url::parse("http://other:9090/api/v1/write").expect("url"))
        );
        assert_eq!(record_key("s1", &plain), format!("s1.{}", endpoint_key(&plain)));
    }
}
