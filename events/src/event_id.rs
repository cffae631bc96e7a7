//! 128-bit, time-ordered event ids (ULID layout: 48-bit milliseconds, 80 random bits).

use serde::{Deserialize, Serialize};
use std::fmt;
use ulid::Ulid;

/// Identity of one event, unique across the fleet and sortable by creation time.
///
/// Used as the JetStream `Nats-Msg-Id` (prefixed with the origin) so a retried append is deduplicated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventId(pub u128);

impl EventId {
    /// A fresh id for an event created at `unix_ms`, with 80 random bits.
    pub fn generate(unix_ms: u64) -> Self {
        let random = Ulid::generate().random();
        Self::from_parts(unix_ms, random)
    }

    /// An id from explicit parts; fixtures use this for deterministic logs.
    pub fn from_parts(unix_ms: u64, random: u128) -> Self {
        EventId(Ulid::from_parts(unix_ms, random).0)
    }

    /// Milliseconds since the Unix epoch at which the id was made.
    pub fn unix_ms(&self) -> u64 {
        Ulid(self.0).timestamp_ms()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Ulid(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time() {
        let a = EventId::generate(1_000);
        let b = EventId::generate(2_000);
        assert!(a < b);
        assert_eq!(a.unix_ms(), 1_000);
    }

    #[test]
    fn ids_are_unique() {
        let a = EventId::generate(5);
        let b = EventId::generate(5);
        assert_ne!(a, b);
    }
}
