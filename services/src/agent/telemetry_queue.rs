//! The agent's metric batches not yet stored by its site, kept on disk beside the node's disk image
//! (`<disk>.telemetry.redb`), so an agent restarted while its site is unreachable still sends what it sampled
//! before. Bounded: past [`TelemetryQueue::cap`] batches the oldest goes, and the count of what went is kept with
//! the batches (`edgefleet_agent_telemetry_dropped_batches_total` survives restarts too).
//!
//! Each push and pop is one redb transaction, written through before it returns: one fsync per batch sampled and
//! one per batch the site stored.

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::{Path, PathBuf};

/// Encoded batches by sequence, oldest first.
const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("batches");
/// `dropped`: batches given up on since the queue was made.
const COUNTS: TableDefinition<&str, u64> = TableDefinition::new("counts");

/// Why the queue could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the agent's telemetry queue {path}: {reason}")]
pub struct QueueError {
    path: PathBuf,
    reason: String,
}

/// Batches waiting for the site, on disk.
pub struct TelemetryQueue {
    db: Database,
    path: PathBuf,
    cap: u64,
}

impl TelemetryQueue {
    /// Where the queue of the node whose disk image is `disk` lives.
    pub fn path_beside(disk: &Path) -> PathBuf {
        let mut name = disk.file_name().unwrap_or_default().to_os_string();
        name.push(".telemetry.redb");
        disk.with_file_name(name)
    }

    /// Opens (or makes) the queue at `path`, holding at most `cap` batches.
    pub fn open(path: &Path, cap: u64) -> Result<Self, QueueError> {
        let failed = |e: &dyn std::fmt::Display| QueueError {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let db = Database::create(path).map_err(|e| failed(&e))?;
        let queue = Self {
            db,
            path: path.to_owned(),
            cap: cap.max(1),
        };
        let txn = queue.db.begin_write().map_err(|e| failed(&e))?;
        txn.open_table(BATCHES).map_err(|e| failed(&e))?;
        txn.open_table(COUNTS).map_err(|e| failed(&e))?;
        txn.commit().map_err(|e| failed(&e))?;
        Ok(queue)
    }

    fn failed(&self, e: &dyn std::fmt::Display) -> QueueError {
        QueueError {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    /// Adds `batch` at the end; if the queue is full, the oldest batch goes and is counted dropped.
    pub fn push(&self, batch: &[u8]) -> Result<(), QueueError> {
        let txn = self.db.begin_write().map_err(|e| self.failed(&e))?;
        {
            let mut batches = txn.open_table(BATCHES).map_err(|e| self.failed(&e))?;
            let mut gone = 0;
            while batches.len().map_err(|e| self.failed(&e))? >= self.cap {
                if batches.pop_first().map_err(|e| self.failed(&e))?.is_none() {
                    break;
                }
                gone += 1;
            }
            let next = batches
                .last()
                .map_err(|e| self.failed(&e))?
                .map_or(0, |(seq, _)| seq.value() + 1);
            batches.insert(next, batch).map_err(|e| self.failed(&e))?;
            if gone > 0 {
                let mut counts = txn.open_table(COUNTS).map_err(|e| self.failed(&e))?;
                let dropped = counts
                    .get("dropped")
                    .map_err(|e| self.failed(&e))?
                    .map_or(0, |v| v.value());
                counts.insert("dropped", dropped + gone).map_err(|e| self.failed(&e))?;
            }
        }
        txn.commit().map_err(|e| self.failed(&e))
    }

    /// The oldest batch, if any, with its sequence (for [`TelemetryQueue::remove`]).
    pub fn front(&self) -> Result<Option<(u64, Vec<u8>)>, QueueError> {
        let txn = self.db.begin_read().map_err(|e| self.failed(&e))?;
        let batches = txn.open_table(BATCHES).map_err(|e| self.failed(&e))?;
        let first = batches.first().map_err(|e| self.failed(&e))?;
        Ok(first.map(|(seq, bytes)| (seq.value(), bytes.value().to_vec())))
    }

    /// Removes batch `seq` (stored by the site, or given up on: then `dropped` counts it).
    pub fn remove(&self, seq: u64, dropped: bool) -> Result<(), QueueError> {
        let txn = self.db.begin_write().map_err(|e| self.failed(&e))?;
        {
            let mut batches = txn.open_table(BATCHES).map_err(|e| self.failed(&e))?;
            batches.remove(seq).map_err(|e| self.failed(&e))?;
            if dropped {
                let mut counts = txn.open_table(COUNTS).map_err(|e| self.failed(&e))?;
                let before = counts
                    .get("dropped")
                    .map_err(|e| self.failed(&e))?
                    .map_or(0, |v| v.value());
                counts.insert("dropped", before + 1).map_err(|e| self.failed(&e))?;
            }
        }
        txn.commit().map_err(|e| self.failed(&e))
    }

    /// Batches waiting.
    pub fn len(&self) -> Result<u64, QueueError> {
        let txn = self.db.begin_read().map_err(|e| self.failed(&e))?;
        let batches = txn.open_table(BATCHES).map_err(|e| self.failed(&e))?;
        batches.len().map_err(|e| self.failed(&e))
    }

    /// Batches given up on since the queue was made.
    pub fn dropped(&self) -> Result<u64, QueueError> {
        let txn = self.db.begin_read().map_err(|e| self.failed(&e))?;
        let counts = txn.open_table(COUNTS).map_err(|e| self.failed(&e))?;
        Ok(counts
            .get("dropped")
            .map_err(|e| self.failed(&e))?
            .map_or(0, |v| v.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_come_back_in_order_after_a_reopen_and_a_full_queue_drops_the_oldest_counted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = TelemetryQueue::path_beside(&dir.path().join("n1.img"));
        assert!(path.ends_with("n1.img.telemetry.redb"), "{path:?}");
        {
            let queue = TelemetryQueue::open(&path, 3).expect("open");
            for batch in [b"a", b"b", b"c", b"d"] {
                queue.push(batch).expect("push");
            }
            assert_eq!((queue.len().expect("len"), queue.dropped().expect("dropped")), (3, 1));
        }
        // Given the queue reopened (an agent restart),
        let queue = TelemetryQueue::open(&path, 3).expect("reopen");
        let (seq, first) = queue.front().expect("front").expect("a batch");
        assert_eq!(first, b"b", "the oldest that fit");
        queue.remove(seq, false).expect("stored");
        let (seq, second) = queue.front().expect("front").expect("a batch");
        assert_eq!(second, b"c");
        queue.remove(seq, true).expect("refused");
        assert_eq!((queue.len().expect("len"), queue.dropped().expect("dropped")), (1, 2));
        queue.push(b"e").expect("push after pops");
        let rest: Vec<Vec<u8>> = std::iter::from_fn(|| {
            let (seq, bytes) = queue.front().expect("front")?;
            queue.remove(seq, false).expect("remove");
            Some(bytes)
        })
        .collect();
        assert_eq!(rest, [b"d".to_vec(), b"e".to_vec()]);
    }
}
