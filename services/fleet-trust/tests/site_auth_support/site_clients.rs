//! Clients of the site server whose events (server errors, disconnects) are watched: a permission violation is an
//! asynchronous `-ERR` from the server, which async-nats reports only as an event.

use std::time::Duration;

use async_nats::{Client, ConnectError, ConnectOptions, Event, ServerError};
use tokio::sync::mpsc;

/// How long a test waits for an event it expects.
const DEADLINE: Duration = Duration::from_secs(20);

/// A connected client and the events it has seen.
pub struct Watched {
    /// The client.
    pub client: Client,
    /// Its events, in order.
    pub events: mpsc::UnboundedReceiver<Event>,
}

/// Connects to `url` with `options` (2 s timeouts, no retries), watching its events.
pub async fn connect_watched(url: &str, options: ConnectOptions) -> Result<Watched, ConnectError> {
    let (sender, events) = mpsc::unbounded_channel();
    let client = options
        .connection_timeout(Duration::from_secs(2))
        .request_timeout(Some(Duration::from_secs(2)))
        .event_callback(move |event| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(event);
            }
        })
        .connect(url)
        .await?;
    Ok(Watched { client, events })
}

/// The permission-violation message naming `subject`, if `event` is one.
fn violation_of(event: &Event, subject: &str) -> Option<String> {
    match event {
        Event::ServerError(ServerError::Other(message))
            if message.contains("Permissions Violation") && message.contains(&format!("\"{subject}\"")) =>
        {
            Some(message.clone())
        }
        _ => None,
    }
}

/// Waits until the server reports a permission violation naming `subject`; panics after the deadline. Returns the
/// server's message.
pub async fn expect_violation(watched: &mut Watched, subject: &str) -> String {
    let wait = async {
        loop {
            let event = watched.events.recv().await.expect("the client's event channel closed");
            if let Some(message) = violation_of(&event, subject) {
                return message;
            }
        }
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .unwrap_or_else(|_| panic!("no permission violation for {subject:?} within {DEADLINE:?}"))
}

/// A subject no restricted user may publish: its violation marks the end of the server's earlier reports.
const CANARY: &str = "ef.test.canary";

/// Asserts the server has reported no permission violation so far. Publishes to [`CANARY`] and reads events up to
/// its violation: the server reports violations in order, so every earlier one has arrived by then.
pub async fn no_violations(watched: &mut Watched) {
    watched
        .client
        .publish(CANARY, "".into())
        .await
        .expect("publish the canary");
    let mut earlier = Vec::new();
    let wait = async {
        loop {
            let event = watched.events.recv().await.expect("the client's event channel closed");
            if violation_of(&event, CANARY).is_some() {
                return;
            }
            if matches!(&event, Event::ServerError(ServerError::Other(m)) if m.contains("Permissions Violation")) {
                earlier.push(event.to_string());
            }
        }
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .unwrap_or_else(|_| panic!("the canary's violation did not arrive within {DEADLINE:?}"));
    assert!(earlier.is_empty(), "unexpected permission violations: {earlier:?}");
}

/// Waits until `watched` sees its connection drop.
pub async fn expect_disconnected(watched: &mut Watched) {
    let wait = async {
        while let Some(event) = watched.events.recv().await {
            if matches!(event, Event::Disconnected) {
                return;
            }
        }
        panic!("the event channel closed before a disconnect");
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .expect("no disconnect in time");
}
