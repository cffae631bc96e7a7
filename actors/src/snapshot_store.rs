//! The snapshot port: state plus the positions it covers, so a restart reads snapshot + tail.

use crate::event_log::Positions;
use events::AggregateRef;
use serde::{Deserialize, Serialize};

/// A stored snapshot. `state` is the postcard encoding of the aggregate, tagged with its `STATE_VERSION`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `Aggregate::STATE_VERSION` of the encoded state.
    pub state_version: u16,
    /// postcard-encoded state.
    pub state: Vec<u8>,
    /// Positions the state covers.
    pub positions: Positions,
}

/// Why a snapshot could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The store failed (disk, lock).
    #[error("snapshot store failed: {0}")]
    Store(String),
}

/// Where snapshots live. Snapshots are a cache: losing one costs a longer replay, never correctness.
pub trait SnapshotStore: Clone + Send + Sync + Unpin + 'static {
    /// The latest snapshot of `aggregate`, if any.
    fn load(&self, aggregate: &AggregateRef) -> Result<Option<Snapshot>, SnapshotError>;
    /// Stores `snapshot`; must never move an aggregate's snapshot backwards.
    fn save(&self, aggregate: &AggregateRef, snapshot: &Snapshot) -> Result<(), SnapshotError>;
}

/// A store that keeps nothing: every start replays the whole log. For tests and tools.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSnapshots;

impl SnapshotStore for NoSnapshots {
    fn load(&self, _aggregate: &AggregateRef) -> Result<Option<Snapshot>, SnapshotError> {
        Ok(None)
    }
    fn save(&self, _aggregate: &AggregateRef, _snapshot: &Snapshot) -> Result<(), SnapshotError> {
        Ok(())
    }
}
