//! The process-wide hybrid logical clock, shared by every actor of one process.

use events::{Hlc, HlcClock};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A shared HLC over a wall clock. The wall clock is injectable so tests can skew it.
#[derive(Clone)]
pub struct ProcessClock {
    hlc: Arc<Mutex<HlcClock>>,
    wall_ms: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl std::fmt::Debug for ProcessClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessClock").finish_non_exhaustive()
    }
}

impl Default for ProcessClock {
    fn default() -> Self {
        Self::system()
    }
}

/// Milliseconds since the Unix epoch from the system clock (0 if the clock is before 1970).
pub fn system_wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl ProcessClock {
    /// The system wall clock.
    pub fn system() -> Self {
        Self::with_wall_clock(system_wall_ms)
    }

    /// A clock reading `wall_ms` for wall time (e.g. the system clock skewed by ten minutes).
    pub fn with_wall_clock(wall_ms: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Self {
            hlc: Arc::new(Mutex::new(HlcClock::new())),
            wall_ms: Arc::new(wall_ms),
        }
    }

    /// Current wall time as this clock sees it.
    pub fn wall_ms(&self) -> u64 {
        (self.wall_ms)()
    }

    /// A new reading for a local event.
    pub fn tick(&self) -> Hlc {
        let wall = self.wall_ms();
        let mut hlc = self.hlc.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        hlc.tick(wall)
    }

    /// Merges a reading seen on an event from elsewhere.
    pub fn observe(&self, remote: Hlc) {
        let wall = self.wall_ms();
        let mut hlc = self.hlc.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        hlc.observe(remote, wall);
    }
}
