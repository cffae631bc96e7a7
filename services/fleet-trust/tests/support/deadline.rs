//! Waiting for a condition with a deadline, never a fixed sleep.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a test waits for the real servers to reach a state.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `check` every 50 ms until it returns `Some`, panicking with `what` after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "gave up after {DEADLINE:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
