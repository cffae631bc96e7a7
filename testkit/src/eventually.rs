//! `eventually`: wait for a condition with a deadline instead of sleeping — the one poll loop every test shares.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often the condition is checked.
const POLL: Duration = Duration::from_millis(100);

/// Checks `check` every 100 ms until it returns `Some`, and returns that; panics naming `what` once `timeout`
/// passes (a test waiting for something that never happens fails with a reason, not a hang).
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_with(what, timeout, || {
        let next = check();
        async move { next.await.ok_or_else(String::new) }
    })
    .await
}

/// Like [`eventually`], for a check that says why it is not there yet: the last reason is in the panic message.
pub async fn eventually_with<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let why = match check().await {
            Ok(value) => return value,
            Err(why) => why,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}{}{why}",
            if why.is_empty() { "" } else { ": " }
        );
        tokio::time::sleep(POLL).await;
    }
}
