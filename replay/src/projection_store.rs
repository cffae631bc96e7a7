//! Snapshots of a process's [`Projection`](crate::projection::Projection) in its redb store, so a restart reads
//! snapshot + tail instead of every stream from the start. Kept apart from the actors' snapshots: a projection
//! folds each aggregate as its own subjects hold it, an actor also folds its companions.

use crate::local_store::{mark_rows, redb_err, snapshot_rows, LocalStore, LocalStoreError};
use crate::stream_homes::StreamHomes;
use crate::stream_reader::{last_seq, ReadError};
use actors::fleet_state::FleetState;
use redb::{Durability, ReadableDatabase, TableDefinition};

/// Aggregate (`kind/scope/id`) → postcard [`Snapshot`] of the projection's fold.
const PROJECTION: TableDefinition<&str, &[u8]> = TableDefinition::new("projection");
/// Stream → highest sequence the snapshot covers.
const PROJECTION_HIGH_WATER: TableDefinition<&str, u64> = TableDefinition::new("projection_high_water");

impl LocalStore {
    /// Replaces the stored projection with `fleet` in one transaction.
    pub fn save_projection(&self, fleet: &FleetState) -> Result<(), LocalStoreError> {
        let mut txn = self.db.begin_write().map_err(|e| redb_err("begin")(&e))?;
        // Eventual: a lost projection snapshot only means a longer catch-up from the log, never a wrong state
        // (the high-water marks are written in the same transaction as the states they cover).
        txn.set_durability(Durability::None)
            .map_err(|e| redb_err("durability")(&e))?;
        {
            txn.delete_table(PROJECTION)
                .map_err(|e| redb_err("projection table")(&e))?;
            txn.delete_table(PROJECTION_HIGH_WATER)
                .map_err(|e| redb_err("projection high-water table")(&e))?;
            let mut table = txn
                .open_table(PROJECTION)
                .map_err(|e| redb_err("projection table")(&e))?;
            for (aggregate, snapshot) in fleet.snapshots() {
                let bytes = postcard::to_allocvec(&snapshot).map_err(|e| redb_err("encode")(&e))?;
                table
                    .insert(aggregate.to_string().as_str(), bytes.as_slice())
                    .map_err(|e| redb_err("insert")(&e))?;
            }
            let mut marks = txn
                .open_table(PROJECTION_HIGH_WATER)
                .map_err(|e| redb_err("projection high-water table")(&e))?;
            for (stream, seq) in &fleet.high_water {
                marks
                    .insert(stream.as_str(), *seq)
                    .map_err(|e| redb_err("insert")(&e))?;
            }
        }
        txn.commit().map_err(|e| redb_err("commit")(&e))
    }

    /// The stored projection, or `None` if there is none or any part of it is unreadable or of an older layout.
    pub fn load_projection(&self) -> Result<Option<FleetState>, LocalStoreError> {
        let txn = self.db.begin_read().map_err(|e| redb_err("begin")(&e))?;
        let (Ok(table), Ok(marks)) = (txn.open_table(PROJECTION), txn.open_table(PROJECTION_HIGH_WATER)) else {
            return Ok(None); // never saved
        };
        let high_water = mark_rows(&marks)?;
        let (snapshots, skipped) = snapshot_rows(&table)?;
        if skipped > 0 {
            return Ok(None);
        }
        let (fleet, complete) = FleetState::from_snapshots(snapshots, high_water);
        Ok(complete.then_some(fleet))
    }
}

/// The projection to start from: the stored snapshot if every stream it covers still holds what it saw (a stream
/// that was recreated or truncated since makes the whole snapshot void), else an empty fleet.
pub async fn restore_projection(homes: &StreamHomes, store: &LocalStore) -> Result<FleetState, ReadError> {
    let saved = match store.load_projection() {
        Ok(Some(fleet)) => fleet,
        Ok(None) => return Ok(FleetState::new()),
        Err(e) => {
            tracing::warn!(error = %e, "projection snapshot unreadable; replaying from the start");
            return Ok(FleetState::new());
        }
    };
    for (stream, seq) in &saved.high_water {
        let last = last_seq(&homes.of(stream), stream).await?.unwrap_or(0);
        if last < *seq {
            tracing::warn!(%stream, saved = seq, last, "stream is behind the projection snapshot; replaying");
            return Ok(FleetState::new());
        }
    }
    Ok(saved)
}
