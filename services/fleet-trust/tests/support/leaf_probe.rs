//! Checking what crosses a leaf link, without sleeping: probe an allowed subject until it arrives (the link is up
//! and interest has propagated), then publish the forbidden subject followed by an allowed marker; the marker's
//! arrival proves the forbidden message, sent before it on the same connection, was dropped.

use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};

use super::deadline::DEADLINE;

/// How long one probe waits to be heard before the next is sent.
const PROBE_INTERVAL: Duration = Duration::from_millis(200);

/// Checks one direction of a leaf link, from `publisher` to `listener`: subjects under `allowed.` cross,
/// `forbidden` does not.
pub async fn assert_leaf_carries_only(
    publisher: &async_nats::Client,
    listener: &async_nats::Client,
    allowed: &str,
    forbidden: &str,
) {
    let mut heard = listener.subscribe(format!("{allowed}.>")).await.unwrap();
    let mut heard_forbidden = listener.subscribe(forbidden.to_owned()).await.unwrap();
    listener.flush().await.unwrap();
    let probe = format!("{allowed}.probe");
    probe_until_heard(publisher, &probe, &mut heard).await;

    let marker = format!("{allowed}.marker");
    for subject in [forbidden, &marker] {
        publisher.publish(subject.to_owned(), "after".into()).await.unwrap();
    }

    assert_eq!(next_subject_except(&probe, &mut heard).await, marker);
    assert!(
        heard_forbidden.next().now_or_never().is_none(),
        "{forbidden} must not cross the leaf link"
    );
}

/// Publishes `subject` from `publisher` until `listener` hears it. Panics after the deadline.
pub async fn probe_until_heard(publisher: &async_nats::Client, subject: &str, listener: &mut async_nats::Subscriber) {
    let started = Instant::now();
    loop {
        publisher.publish(subject.to_owned(), "probe".into()).await.unwrap();
        if let Ok(Some(message)) = tokio::time::timeout(PROBE_INTERVAL, listener.next()).await {
            if message.subject.as_str() == subject {
                return;
            }
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{subject} did not cross the leaf link within {DEADLINE:?}"
        );
    }
}

/// The next subject on `subscriber` other than `probe`.
async fn next_subject_except(probe: &str, subscriber: &mut async_nats::Subscriber) -> String {
    loop {
        let message = tokio::time::timeout(DEADLINE, subscriber.next())
            .await
            .expect("a message within the deadline")
            .expect("subscription open");
        if message.subject.as_str() != probe {
            return message.subject.to_string();
        }
    }
}
