//! [`LocalStore`]: the process's redb database — aggregate snapshots, replay high-water marks and quarantine.

use crate::quarantine::QuarantinedMessage;
use actors::{Positions, Snapshot, SnapshotError, SnapshotStore};
use events::AggregateRef;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Aggregate (`kind/scope/id`) → postcard [`Snapshot`].
const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshots");
/// Stream name → highest sequence a full replay has applied.
const REPLAY_HIGH_WATER: TableDefinition<&str, u64> = TableDefinition::new("replay_high_water");
/// (stream, seq) → postcard [`QuarantinedMessage`].
const QUARANTINE: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("quarantine");

/// Why the local store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalStoreError {
    /// redb failed (open, transaction, table, commit).
    #[error("local store {0}")]
    Redb(String),
}

pub(crate) fn redb_err(what: &str) -> impl Fn(&dyn std::fmt::Display) -> LocalStoreError + '_ {
    move |e| LocalStoreError::Redb(format!("{what}: {e}"))
}

/// The redb database of one hub or site process.
#[derive(Clone)]
pub struct LocalStore {
    pub(crate) db: Arc<Database>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore").finish_non_exhaustive()
    }
}

impl LocalStore {
    /// Opens (or creates) the database at `path` and its tables.
    pub fn open(path: &Path) -> Result<Self, LocalStoreError> {
        let db = Database::create(path).map_err(|e| redb_err("open")(&e))?;
        let txn = db.begin_write().map_err(|e| redb_err("begin")(&e))?;
        txn.open_table(SNAPSHOTS).map_err(|e| redb_err("snapshots table")(&e))?;
        txn.open_table(REPLAY_HIGH_WATER)
            .map_err(|e| redb_err("high-water table")(&e))?;
        txn.open_table(QUARANTINE)
            .map_err(|e| redb_err("quarantine table")(&e))?;
        txn.commit().map_err(|e| redb_err("commit")(&e))?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Saves many snapshots and the replay high-water marks in one transaction (one fsync for the batch).
    pub fn save_batch(
        &self,
        snapshots: &[(AggregateRef, Snapshot)],
        high_water: &BTreeMap<String, u64>,
    ) -> Result<(), LocalStoreError> {
        let mut txn = self.db.begin_write().map_err(|e| redb_err("begin")(&e))?;
        // Immediate: a batch covers many events; paying one fsync for it is cheap and a restart can trust it.
        txn.set_durability(Durability::Immediate)
            .map_err(|e| redb_err("durability")(&e))?;
        {
            let mut table = txn.open_table(SNAPSHOTS).map_err(|e| redb_err("snapshots table")(&e))?;
            for (aggregate, snapshot) in snapshots {
                let key = aggregate.to_string();
                let newer = match table.get(key.as_str()).map_err(|e| redb_err("get")(&e))? {
                    Some(old) => match postcard::from_bytes::<Snapshot>(old.value()) {
                        Ok(old) => covers(&snapshot.positions, &old.positions),
                        Err(_) => true,
                    },
                    None => true,
                };
                if !newer {
                    continue; // snapshots only move forward
                }
                let bytes = postcard::to_allocvec(snapshot).map_err(|e| redb_err("encode")(&e))?;
                table
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(|e| redb_err("insert")(&e))?;
            }
            let mut marks = txn
                .open_table(REPLAY_HIGH_WATER)
                .map_err(|e| redb_err("high-water table")(&e))?;
            for (stream, seq) in high_water {
                marks
                    .insert(stream.as_str(), *seq)
                    .map_err(|e| redb_err("insert")(&e))?;
            }
        }
        txn.commit().map_err(|e| redb_err("commit")(&e))
    }

    /// Every stored snapshot (unreadable ones are skipped: replay rebuilds them).
    pub fn all_snapshots(&self) -> Result<Vec<(AggregateRef, Snapshot)>, LocalStoreError> {
        let txn = self.db.begin_read().map_err(|e| redb_err("begin")(&e))?;
        let table = txn.open_table(SNAPSHOTS).map_err(|e| redb_err("snapshots table")(&e))?;
        let (snapshots, skipped) = snapshot_rows(&table)?;
        if skipped > 0 {
            tracing::warn!(skipped, "unreadable snapshots skipped; they will be rebuilt by replay");
        }
        Ok(snapshots)
    }

    /// Replay high-water marks per stream.
    pub fn high_water(&self) -> Result<BTreeMap<String, u64>, LocalStoreError> {
        let txn = self.db.begin_read().map_err(|e| redb_err("begin")(&e))?;
        let table = txn
            .open_table(REPLAY_HIGH_WATER)
            .map_err(|e| redb_err("high-water table")(&e))?;
        mark_rows(&table)
    }

    /// Persists one quarantined message.
    pub fn record_quarantine(&self, message: &QuarantinedMessage) -> Result<(), LocalStoreError> {
        let mut txn = self.db.begin_write().map_err(|e| redb_err("begin")(&e))?;
        // Immediate: quarantine is rare and is evidence; it must survive a crash.
        txn.set_durability(Durability::Immediate)
            .map_err(|e| redb_err("durability")(&e))?;
        {
            let mut table = txn
                .open_table(QUARANTINE)
                .map_err(|e| redb_err("quarantine table")(&e))?;
            let bytes = postcard::to_allocvec(message).map_err(|e| redb_err("encode")(&e))?;
            table
                .insert((message.stream.as_str(), message.seq), bytes.as_slice())
                .map_err(|e| redb_err("insert")(&e))?;
        }
        txn.commit().map_err(|e| redb_err("commit")(&e))
    }

    /// Every persisted quarantined message.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedMessage>, LocalStoreError> {
        let txn = self.db.begin_read().map_err(|e| redb_err("begin")(&e))?;
        let table = txn
            .open_table(QUARANTINE)
            .map_err(|e| redb_err("quarantine table")(&e))?;
        let mut out = Vec::new();
        for row in table.iter().map_err(|e| redb_err("iter")(&e))? {
            let (_, value) = row.map_err(|e| redb_err("row")(&e))?;
            let bytes = value.value();
            match postcard::from_bytes::<QuarantinedMessage>(bytes) {
                Ok(message) => out.push(message),
                Err(_) => match postcard::from_bytes::<crate::quarantine::QuarantinedMessageV1>(bytes) {
                    Ok(old) => out.push(old.into()),
                    Err(e) => tracing::warn!(error = %e, "unreadable quarantine record skipped"),
                },
            }
        }
        Ok(out)
    }
}

/// Every readable `(aggregate, snapshot)` row of a snapshot table, and how many rows could not be read.
pub(crate) fn snapshot_rows(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<(Vec<(AggregateRef, Snapshot)>, usize), LocalStoreError> {
    let (mut rows, mut skipped) = (Vec::new(), 0);
    for row in table.iter().map_err(|e| redb_err("iter")(&e))? {
        let (key, value) = row.map_err(|e| redb_err("row")(&e))?;
        match (
            AggregateRef::parse(key.value()),
            postcard::from_bytes::<Snapshot>(value.value()),
        ) {
            (Ok(aggregate), Ok(snapshot)) => rows.push((aggregate, snapshot)),
            _ => skipped += 1,
        }
    }
    Ok((rows, skipped))
}

/// Every `stream → sequence` row of a high-water table.
pub(crate) fn mark_rows(
    table: &impl ReadableTable<&'static str, u64>,
) -> Result<BTreeMap<String, u64>, LocalStoreError> {
    let mut marks = BTreeMap::new();
    for row in table.iter().map_err(|e| redb_err("iter")(&e))? {
        let (stream, seq) = row.map_err(|e| redb_err("row")(&e))?;
        marks.insert(stream.value().to_string(), seq.value());
    }
    Ok(marks)
}

/// True if `new` is at or beyond `old` in every stream `old` covers.
fn covers(new: &Positions, old: &Positions) -> bool {
    old.0.iter().all(|(stream, seq)| new.get(stream) >= *seq)
}

impl SnapshotStore for LocalStore {
    fn load(&self, aggregate: &AggregateRef) -> Result<Option<Snapshot>, SnapshotError> {
        let store = |e: &dyn std::fmt::Display| SnapshotError::Store(e.to_string());
        let txn = self.db.begin_read().map_err(|e| store(&e))?;
        let table = txn.open_table(SNAPSHOTS).map_err(|e| store(&e))?;
        let Some(value) = table.get(aggregate.to_string().as_str()).map_err(|e| store(&e))? else {
            return Ok(None);
        };
        // An unreadable snapshot is a cache miss, not an error: replay rebuilds it.
        Ok(postcard::from_bytes(value.value()).ok())
    }

    fn save(&self, aggregate: &AggregateRef, snapshot: &Snapshot) -> Result<(), SnapshotError> {
        self.save_batch(&[(aggregate.clone(), snapshot.clone())], &BTreeMap::new())
            .map_err(|e| SnapshotError::Store(e.to_string()))
    }
}
