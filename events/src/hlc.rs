//! Hybrid logical clock: wall-clock milliseconds plus a logical counter, so timestamps stay ordered across edge
//! nodes whose clocks drift by minutes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One hybrid-logical-clock reading. Orders by physical milliseconds, then by the logical counter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (the largest wall clock seen so far).
    pub physical_ms: u64,
    /// Tie-breaker among readings with the same `physical_ms`.
    pub logical: u32,
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.physical_ms, self.logical)
    }
}

/// A hybrid logical clock. Pure: the caller passes the wall clock in, so tests control time.
#[derive(Clone, Debug, Default)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    /// A clock that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The reading for a local event at wall time `wall_ms`; strictly greater than every earlier reading.
    pub fn tick(&mut self, wall_ms: u64) -> Hlc {
        self.last = if wall_ms > self.last.physical_ms {
            Hlc {
                physical_ms: wall_ms,
                logical: 0,
            }
        } else {
            self.bump(self.last.physical_ms, self.last.logical)
        };
        self.last
    }

    /// Merges a reading received from elsewhere so later local readings order after it.
    pub fn observe(&mut self, remote: Hlc, wall_ms: u64) -> Hlc {
        let physical = wall_ms.max(remote.physical_ms).max(self.last.physical_ms);
        let logical = if physical == self.last.physical_ms && physical == remote.physical_ms {
            self.last.logical.max(remote.logical)
        } else if physical == self.last.physical_ms {
            self.last.logical
        } else if physical == remote.physical_ms {
            remote.logical
        } else {
            self.last = Hlc {
                physical_ms: physical,
                logical: 0,
            };
            return self.last;
        };
        self.last = self.bump(physical, logical);
        self.last
    }

    /// The last reading handed out.
    pub fn last(&self) -> Hlc {
        self.last
    }

    fn bump(&self, physical_ms: u64, logical: u32) -> Hlc {
        match logical.checked_add(1) {
            Some(logical) => Hlc { physical_ms, logical },
            // The counter ran out within one millisecond: move physical time forward instead.
            None => Hlc {
                physical_ms: physical_ms + 1,
                logical: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_is_monotonic_when_wall_clock_goes_back() {
        let mut clock = HlcClock::new();
        let a = clock.tick(10_000);
        let b = clock.tick(4_000); // clock stepped back ten minutes' worth
        assert!(b > a);
        assert_eq!(b.physical_ms, 10_000);
    }

    #[test]
    fn observe_orders_after_remote_from_the_future() {
        let mut clock = HlcClock::new();
        clock.tick(1_000);
        let remote = Hlc {
            physical_ms: 601_000,
            logical: 7,
        };
        let merged = clock.observe(remote, 1_001);
        assert!(merged > remote);
        assert!(clock.tick(1_002) > remote);
    }
}
