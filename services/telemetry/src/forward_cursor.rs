//! [`ForwardCursor`]: how far the hub delivered one site's telemetry copy to the TSDB, kept in JetStream by the hub
//! (Prometheus keeps no "received up to here" for a sender: prometheus#8809), and [`plan`], the pure decision of
//! what to send next.
//!
//! Two lanes, so a long cut's backlog never holds up fresh samples (vmagent#8833):
//! - the **backlog lane** walks the copy in order from [`ForwardCursor::through`], a chunk at a time;
//! - once more than [`BACKLOG_AT`] batches wait, the **live lane** starts at the newest [`LIVE_TAIL`] and keeps up
//!   with what arrives ([`ForwardCursor::live`]), while the backlog lane fills in behind it; when the backlog reaches
//!   the live lane's start, the two merge.
//!
//! Every batch read is checked against its origin sequence at the site: a jump means the site's limit discarded
//! batches before the hub copied them, which are counted with the times around the hole ([`DropTally`]). A batch
//! the copy itself no longer holds (the hub's own limit) is counted too.

use serde::{Deserialize, Serialize};

/// Batches waiting beyond which the live lane runs ahead of the backlog.
pub const BACKLOG_AT: u64 = 256;
/// The newest batches the live lane starts with.
pub const LIVE_TAIL: u64 = 32;
/// Batches the backlog lane sends per write.
pub const CHUNK: u64 = 256;

/// The delivery state of one site's telemetry copy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardCursor {
    /// Every copy sequence up to here is delivered (or counted as dropped).
    pub through: u64,
    /// The origin (site) sequence of the batch at `through` (0: none yet).
    pub through_origin: u64,
    /// When the batch at `through` was sampled (ms since the epoch; 0: unknown).
    pub through_at_ms: i64,
    /// The live lane's delivered range, while it runs ahead of the backlog.
    pub live: Option<LiveRange>,
    /// Batches lost before delivery.
    pub dropped: DropTally,
    /// Samples the TSDB refused for good (too old for its out-of-order window, malformed), counted, not retried.
    pub refused_samples: u64,
    /// Samples delivered.
    pub delivered_samples: u64,
}

/// A range of copy sequences delivered by the live lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRange {
    /// Its first copy sequence.
    pub first: u64,
    /// The origin sequence of its first batch.
    pub first_origin: u64,
    /// When its first batch was sampled.
    pub first_at_ms: i64,
    /// Its last copy sequence.
    pub last: u64,
    /// The origin sequence of its last batch.
    pub last_origin: u64,
    /// When its last batch was sampled.
    pub last_at_ms: i64,
}

/// Batches lost before delivery, and around when.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropTally {
    /// Discarded at the site by its telemetry limit before the hub copied them.
    pub at_site: u64,
    /// Discarded from the hub's copy by its limit before they were delivered.
    pub at_hub: u64,
    /// The newest hole: the sample time just before it (ms since the epoch; 0 if unknown).
    pub last_after_ms: i64,
    /// The newest hole: the sample time just after it.
    pub last_before_ms: i64,
}

impl DropTally {
    /// Every batch lost.
    pub fn total(&self) -> u64 {
        self.at_site + self.at_hub
    }
}

/// One batch as read from the copy.
#[derive(Clone, Debug, PartialEq)]
pub struct CopiedBatch {
    /// Its sequence in the hub's copy.
    pub seq: u64,
    /// Its sequence in the site's stream (`Nats-Stream-Source`; 0 if the header was missing).
    pub origin_seq: u64,
    /// When it was sampled, ms since the epoch (0 if it could not be decoded).
    pub at_ms: i64,
}

/// What to send next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// The newest batches, `from..=to` of the copy.
    Live {
        /// First copy sequence.
        from: u64,
        /// Last copy sequence.
        to: u64,
    },
    /// The oldest undelivered batches, `from..=to`.
    Backlog {
        /// First copy sequence.
        from: u64,
        /// Last copy sequence.
        to: u64,
    },
}

/// What to send now, live lane first, given the copy holds `first_seq..=last_seq`.
pub fn plan(cursor: &ForwardCursor, last_seq: u64) -> Vec<Lane> {
    let mut lanes = Vec::new();
    match cursor.live {
        Some(live) => {
            if last_seq > live.last {
                lanes.push(Lane::Live {
                    from: live.last + 1,
                    to: last_seq,
                });
            }
            if cursor.through + 1 < live.first {
                lanes.push(Lane::Backlog {
                    from: cursor.through + 1,
                    to: (cursor.through + CHUNK).min(live.first - 1),
                });
            }
        }
        None if last_seq > cursor.through + BACKLOG_AT => {
            let live_from = last_seq + 1 - LIVE_TAIL;
            lanes.push(Lane::Live {
                from: live_from,
                to: last_seq,
            });
            lanes.push(Lane::Backlog {
                from: cursor.through + 1,
                to: (cursor.through + CHUNK).min(live_from - 1),
            });
        }
        None if last_seq > cursor.through => lanes.push(Lane::Backlog {
            from: cursor.through + 1,
            to: last_seq.min(cursor.through + CHUNK),
        }),
        None => {}
    }
    lanes
}

impl ForwardCursor {
    /// Records that the copy no longer holds anything before `first_seq` (its own limit): what was not delivered
    /// is counted as dropped at the hub and skipped.
    pub fn copy_starts_at(&mut self, first_seq: u64) {
        if first_seq > self.through + 1 {
            let lost_to = match self.live {
                Some(live) if live.first <= first_seq => live.first - 1,
                _ => first_seq - 1,
            };
            self.dropped.at_hub += lost_to - self.through;
            self.through = lost_to;
            self.through_origin = 0; // unknown: the next batch starts a new run
            self.through_at_ms = 0;
            self.merge();
        }
    }

    /// Records the live lane's delivery of `batches` (in order, contiguous with any live range), with `samples`
    /// accepted and `refused` refused for good.
    pub fn live_delivered(&mut self, batches: &[CopiedBatch], samples: u64, refused: u64) {
        let (Some(first), Some(last)) = (batches.first(), batches.last()) else {
            return;
        };
        let previous = self.live.map(|l| (l.last_origin, l.last_at_ms));
        let mut range = self.live.unwrap_or(LiveRange {
            first: first.seq,
            first_origin: first.origin_seq,
            first_at_ms: first.at_ms,
            last: first.seq,
            last_origin: first.origin_seq,
            last_at_ms: first.at_ms,
        });
        self.count_holes(previous, batches);
        range.last = last.seq;
        range.last_origin = last.origin_seq;
        range.last_at_ms = last.at_ms;
        self.live = Some(range);
        self.delivered_samples += samples;
        self.refused_samples += refused;
        self.merge();
    }

    /// Records the backlog lane's delivery of `batches` (in order, from `through + 1`).
    pub fn backlog_delivered(&mut self, batches: &[CopiedBatch], samples: u64, refused: u64) {
        let Some(last) = batches.last() else {
            return;
        };
        let previous = (self.through_origin > 0).then_some((self.through_origin, self.through_at_ms));
        self.count_holes(previous, batches);
        self.through = last.seq;
        self.through_origin = last.origin_seq;
        self.through_at_ms = last.at_ms;
        self.delivered_samples += samples;
        self.refused_samples += refused;
        self.merge();
    }

    /// Counts the origin sequences skipped between `previous` (origin sequence, sample time) and `batches`, and
    /// within them.
    fn count_holes(&mut self, previous: Option<(u64, i64)>, batches: &[CopiedBatch]) {
        let mut before = previous;
        for batch in batches {
            if let Some((origin, at_ms)) = before {
                if origin > 0 && batch.origin_seq > origin + 1 {
                    self.dropped.at_site += batch.origin_seq - origin - 1;
                    self.dropped.last_after_ms = at_ms;
                    self.dropped.last_before_ms = batch.at_ms;
                }
            }
            before = Some((batch.origin_seq, batch.at_ms));
        }
    }

    /// Joins the lanes once the backlog reached the live lane's start.
    fn merge(&mut self) {
        let Some(live) = self.live else { return };
        if self.through + 1 >= live.first {
            if self.through_origin > 0 && live.first_origin > self.through_origin + 1 && self.through < live.first {
                self.dropped.at_site += live.first_origin - self.through_origin - 1;
                self.dropped.last_after_ms = self.through_at_ms;
                self.dropped.last_before_ms = live.first_at_ms;
            }
            self.through = self.through.max(live.last);
            self.through_origin = live.last_origin;
            self.through_at_ms = live.last_at_ms;
            self.live = None;
        }
    }

    /// Batches in the copy not delivered yet, given its last sequence.
    pub fn backlog(&self, last_seq: u64) -> u64 {
        let live = self.live.map_or(0, |l| l.last - l.first + 1);
        last_seq.saturating_sub(self.through).saturating_sub(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(seqs: std::ops::RangeInclusive<u64>, origin_offset: u64) -> Vec<CopiedBatch> {
        seqs.map(|seq| CopiedBatch {
            seq,
            origin_seq: seq + origin_offset,
            at_ms: seq as i64 * 1000,
        })
        .collect()
    }

    #[test]
    fn a_short_wait_is_one_backlog_write() {
        let cursor = ForwardCursor::default();
        assert_eq!(plan(&cursor, 10), vec![Lane::Backlog { from: 1, to: 10 }]);
        assert_eq!(plan(&cursor, 0), vec![]);
    }

    #[test]
    fn after_a_long_cut_the_newest_go_first_and_the_backlog_fills_in_behind_until_they_merge() {
        // Given 1,000 batches waiting after a cut,
        let mut cursor = ForwardCursor::default();
        // when the forwarder plans, the newest 32 go first, then the oldest chunk;
        let lanes = plan(&cursor, 1000);
        assert_eq!(
            lanes,
            vec![Lane::Live { from: 969, to: 1000 }, Lane::Backlog { from: 1, to: 256 }]
        );
        cursor.live_delivered(&batches(969..=1000, 0), 32, 0);
        cursor.backlog_delivered(&batches(1..=256, 0), 256, 0);
        // then new batches keep going out live while the backlog walks on,
        assert_eq!(
            plan(&cursor, 1010),
            vec![
                Lane::Live { from: 1001, to: 1010 },
                Lane::Backlog { from: 257, to: 512 }
            ]
        );
        cursor.live_delivered(&batches(1001..=1010, 0), 10, 0);
        for (from, to) in [(257, 512), (513, 768), (769, 968)] {
            assert_eq!(plan(&cursor, 1010), vec![Lane::Backlog { from, to }]);
            cursor.backlog_delivered(&batches(from..=to, 0), to - from + 1, 0);
        }
        // and once the backlog reaches the live lane's start, they are one again, every batch delivered once.
        assert_eq!(cursor.live, None);
        assert_eq!(cursor.through, 1010);
        assert_eq!(cursor.delivered_samples, 1010);
        assert_eq!(cursor.dropped, DropTally::default());
        assert_eq!(plan(&cursor, 1010), vec![]);
    }

    #[test]
    fn origin_sequences_skipped_are_batches_the_site_discarded() {
        let mut cursor = ForwardCursor::default();
        cursor.backlog_delivered(&batches(1..=5, 0), 5, 0);
        // The site's limit discarded origin 6..=105 before the hub copied them: copy seq 6 is origin 106.
        cursor.backlog_delivered(&batches(6..=10, 100), 5, 0);
        assert_eq!(cursor.dropped.at_site, 100);
        assert_eq!(
            (cursor.dropped.last_after_ms, cursor.dropped.last_before_ms),
            (5000, 6000)
        );
        // A hole between the backlog and the live lane is counted when they merge.
        let mut cursor = ForwardCursor::default();
        cursor.live_delivered(&batches(300..=331, 50), 32, 0);
        cursor.backlog_delivered(&batches(1..=299, 0), 299, 0);
        assert_eq!(cursor.live, None);
        assert_eq!(cursor.dropped.at_site, 50);
    }

    #[test]
    fn what_the_hubs_own_copy_discarded_is_counted_and_skipped() {
        let mut cursor = ForwardCursor::default();
        cursor.backlog_delivered(&batches(1..=10, 0), 10, 0);
        cursor.copy_starts_at(51);
        assert_eq!(cursor.dropped.at_hub, 40);
        assert_eq!(cursor.through, 50);
        assert_eq!(plan(&cursor, 60), vec![Lane::Backlog { from: 51, to: 60 }]);
        cursor.copy_starts_at(40); // nothing more lost
        assert_eq!(cursor.dropped.total(), 40);
    }

    #[test]
    fn refused_samples_are_counted_and_the_cursor_moves_on() {
        let mut cursor = ForwardCursor::default();
        cursor.backlog_delivered(&batches(1..=3, 0), 200, 100);
        assert_eq!(
            (cursor.through, cursor.delivered_samples, cursor.refused_samples),
            (3, 200, 100)
        );
        assert_eq!(cursor.backlog(10), 7);
    }

    proptest::proptest! {
        /// However batches arrive and whatever the site discarded, every batch in the copy is delivered exactly once
        /// and every origin sequence never copied is counted as dropped.
        #[test]
        fn every_batch_once_and_every_hole_counted(
            arrivals in proptest::collection::vec(0u64..700, 1..12),
            holes in proptest::collection::vec((0u64..2000, 1u64..50), 0..6),
        ) {
            // The copy's batches: copy seq i+1 holds origin seq with the holes skipped.
            let total: u64 = arrivals.iter().sum();
            let mut origin = 0u64;
            let mut dropped = 0u64;
            let copy: Vec<CopiedBatch> = (1..=total)
                .map(|seq| {
                    origin += 1;
                    if let Some((_, len)) = holes.iter().find(|(at, _)| *at == seq && seq > 1) {
                        origin += len;
                        dropped += len;
                    }
                    CopiedBatch { seq, origin_seq: origin, at_ms: seq as i64 }
                })
                .collect();
            let mut delivered = vec![0u32; total as usize + 1];
            let mut cursor = ForwardCursor::default();
            let mut last = 0u64;
            let mut rounds = 0;
            for arrived in arrivals.iter().copied().chain(std::iter::repeat(0)) {
                last += arrived;
                let lanes = plan(&cursor, last);
                if lanes.is_empty() && last == total {
                    break;
                }
                for lane in lanes {
                    let (Lane::Live { from, to } | Lane::Backlog { from, to }) = lane;
                    let read = &copy[(from - 1) as usize..to as usize];
                    for b in read {
                        delivered[b.seq as usize] += 1;
                    }
                    match lane {
                        Lane::Live { .. } => cursor.live_delivered(read, read.len() as u64, 0),
                        Lane::Backlog { .. } => cursor.backlog_delivered(read, read.len() as u64, 0),
                    }
                }
                rounds += 1;
                proptest::prop_assert!(rounds < 1000, "no progress");
            }
            proptest::prop_assert!(delivered[1..].iter().all(|&n| n == 1), "{:?}", delivered);
            proptest::prop_assert_eq!(cursor.through, total);
            proptest::prop_assert_eq!(cursor.live, None);
            proptest::prop_assert_eq!(cursor.delivered_samples, total);
            proptest::prop_assert_eq!(cursor.dropped.at_site, dropped);
        }
    }
}
