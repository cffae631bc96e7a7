//! [`QuietTimer`]: "nothing arrived for a while", for loops reading a stream message by message. Marking a message
//! is a clock read, not a timer operation: the one timer is re-armed only when it fires early, so a read of a
//! million messages does not pay a timer per message.

use std::pin::Pin;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Fires once nothing was [heard](QuietTimer::heard) for its period.
pub(crate) struct QuietTimer {
    period: Duration,
    last_heard: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl QuietTimer {
    /// A timer that fires after `period` of quiet, counted from now.
    pub(crate) fn new(period: Duration) -> Self {
        Self {
            period,
            last_heard: Instant::now(),
            sleep: Box::pin(tokio::time::sleep(period)),
        }
    }

    /// Something arrived: the quiet starts again from now.
    pub(crate) fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// The period of quiet to wait for from now on (counted from the last thing heard).
    pub(crate) fn set_period(&mut self, period: Duration) {
        self.period = period;
    }

    /// The period of quiet now.
    pub(crate) fn period(&self) -> Duration {
        self.period
    }

    /// Resolves once nothing was heard for the period.
    pub(crate) async fn quiet(&mut self) {
        loop {
            (&mut self.sleep).await;
            let quiet_until = self.last_heard + self.period;
            if Instant::now() >= quiet_until {
                // Ready to wait a whole period again from whatever is heard next.
                self.last_heard = Instant::now();
                self.sleep.as_mut().reset(self.last_heard + self.period);
                return;
            }
            self.sleep.as_mut().reset(quiet_until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn fires_only_after_a_whole_period_without_anything_heard() {
        let mut timer = QuietTimer::new(Duration::from_secs(3));
        tokio::time::sleep(Duration::from_secs(2)).await;
        timer.heard();
        let started = Instant::now();
        timer.quiet().await;
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(3),
            "counted from the last thing heard"
        );
        let started = Instant::now();
        timer.set_period(Duration::from_secs(6));
        timer.quiet().await;
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(6),
            "a whole new period after it fired"
        );
    }
}
