//! The demo's narrator: one readable line per step, with the time since the start.

use std::time::Instant;

/// Prints the story as it happens and remembers whether a step failed.
pub struct Story {
    started: Instant,
    failed: bool,
}

impl Story {
    /// A story starting now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            failed: false,
        }
    }

    /// Tells one step.
    pub fn tell(&self, line: impl AsRef<str>) {
        println!("[{:>5.1}s] {}", self.started.elapsed().as_secs_f64(), line.as_ref());
    }

    /// Tells a failed step; the demo's exit code will say so.
    pub fn fail(&mut self, line: impl AsRef<str>) {
        self.failed = true;
        println!(
            "[{:>5.1}s] FAILED: {}",
            self.started.elapsed().as_secs_f64(),
            line.as_ref()
        );
    }

    /// True if any step failed.
    pub fn failed(&self) -> bool {
        self.failed
    }
}
