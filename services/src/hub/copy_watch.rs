//! Whether the hub's copy of a site's stream keeps up, judged by sequences, not by what the server reports.
//!
//! A sourced copy can stall while nats-server reports a lag of 0 (nats-server #8346, #8630): its source stops and
//! nothing says so. The site's beacon carries the last sequence of its own stream; the hub's projection knows how
//! far the copy goes. A copy behind the site whose sequence has not moved for [`STALLED_AFTER`] while the site is
//! connected is stalled: the hub sets the copy up again and resumes its source, at most once per [`STALLED_AFTER`].
//! Pure: the site directory feeds it observations and carries out the remedy.

pub use crate::api_types::views::CopyHealth;
use std::time::{Duration, Instant};

/// How long a copy behind its site may stand still before it counts as stalled.
pub const STALLED_AFTER: Duration = Duration::from_secs(10);

/// What the hub has seen of one copy's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyProgress {
    /// How far the copy went when last seen.
    pub copied: u64,
    /// When `copied` last changed (or was first seen).
    pub moved_at: Instant,
    /// When the hub last set the copy up again because it stalled.
    pub remedied_at: Option<Instant>,
}

impl CopyProgress {
    /// The progress after seeing the copy at `copied` at `now`.
    pub fn observe(previous: Option<CopyProgress>, copied: u64, now: Instant) -> CopyProgress {
        match previous {
            Some(p) if p.copied == copied => p,
            Some(p) => CopyProgress {
                copied,
                moved_at: now,
                remedied_at: p.remedied_at,
            },
            None => CopyProgress {
                copied,
                moved_at: now,
                remedied_at: None,
            },
        }
    }

    /// How the copy is doing against the site's last sequence, for a site that is `connected`.
    pub fn health(&self, site_last_seq: u64, connected: bool, now: Instant) -> CopyHealth {
        if self.copied >= site_last_seq {
            CopyHealth::CaughtUp
        } else if connected && now.saturating_duration_since(self.moved_at) >= STALLED_AFTER {
            CopyHealth::Stalled
        } else {
            CopyHealth::Copying
        }
    }

    /// True if the copy is stalled and was not remedied within the last [`STALLED_AFTER`].
    pub fn needs_remedy(&self, site_last_seq: u64, connected: bool, now: Instant) -> bool {
        self.health(site_last_seq, connected, now) == CopyHealth::Stalled
            && self
                .remedied_at
                .is_none_or(|at| now.saturating_duration_since(at) >= STALLED_AFTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(copied: u64, at: Instant) -> CopyProgress {
        CopyProgress::observe(None, copied, at)
    }

    #[test]
    fn a_copy_holding_what_the_site_has_is_caught_up_however_long_it_stands() {
        let t0 = Instant::now();
        let progress = seen(50, t0);
        assert_eq!(
            progress.health(50, true, t0 + Duration::from_secs(600)),
            CopyHealth::CaughtUp
        );
    }

    #[test]
    fn a_copy_behind_is_copying_until_it_stands_still_for_ten_seconds_while_the_site_is_connected() {
        let t0 = Instant::now();
        let progress = seen(40, t0);
        assert_eq!(
            progress.health(50, true, t0 + Duration::from_secs(9)),
            CopyHealth::Copying
        );
        assert_eq!(progress.health(50, true, t0 + STALLED_AFTER), CopyHealth::Stalled);
        assert_eq!(
            progress.health(50, false, t0 + Duration::from_secs(60)),
            CopyHealth::Copying,
            "a disconnected site's copy waits for the link, it is not stalled"
        );
    }

    #[test]
    fn a_copy_that_moves_starts_its_clock_again() {
        let t0 = Instant::now();
        let moved = CopyProgress::observe(Some(seen(40, t0)), 45, t0 + Duration::from_secs(9));
        assert_eq!(
            moved.health(50, true, t0 + Duration::from_secs(15)),
            CopyHealth::Copying
        );
        let same = CopyProgress::observe(Some(moved), 45, t0 + Duration::from_secs(15));
        assert_eq!(
            same.moved_at,
            t0 + Duration::from_secs(9),
            "no movement keeps the old time"
        );
    }

    #[test]
    fn a_stalled_copy_is_remedied_once_per_ten_seconds() {
        let t0 = Instant::now();
        let mut progress = seen(40, t0);
        let stalled_at = t0 + STALLED_AFTER;
        assert!(progress.needs_remedy(50, true, stalled_at));
        progress.remedied_at = Some(stalled_at);
        assert!(!progress.needs_remedy(50, true, stalled_at + Duration::from_secs(5)));
        assert!(progress.needs_remedy(50, true, stalled_at + STALLED_AFTER));
        assert!(
            !progress.needs_remedy(40, true, stalled_at + STALLED_AFTER),
            "caught up: nothing to do"
        );
    }
}
