//! The site process answering requests, as a test sees it: every request it received, in order. Each is answered
//! before it is reported, so once a test sees a request, its answer has been published.

use std::time::Duration;

use async_nats::Client;
use futures::StreamExt;
use tokio::sync::mpsc;

/// How long a test waits for a request to arrive.
const DEADLINE: Duration = Duration::from_secs(20);

/// A request the responder received: its subject and reply subject.
pub struct Received {
    /// The subject it was sent to.
    pub subject: String,
    /// Where the answer went.
    pub reply: Option<String>,
    /// What it carried.
    pub payload: Vec<u8>,
}

/// Answers every request on `subject` (as `client`, the site process) with `welcome`, reporting each one.
pub async fn respond(client: &Client, subject: &str) -> mpsc::UnboundedReceiver<Received> {
    let mut requests = client.subscribe(subject.to_owned()).await.expect("subscribe");
    client.flush().await.expect("flush");
    let client = client.clone();
    let (sender, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            if let Some(reply) = &request.reply {
                let _ = client.publish(reply.clone(), "welcome".into()).await;
            }
            let _ = sender.send(Received {
                subject: request.subject.to_string(),
                reply: request.reply.as_ref().map(ToString::to_string),
                payload: request.payload.to_vec(),
            });
        }
    });
    received
}

/// The next request the responder received.
pub async fn next_request(received: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(DEADLINE, received.recv())
        .await
        .expect("the responder received nothing in time")
        .expect("the responder stopped")
}

/// Publishes `marker` as `process` and returns every request received before it: the server handles one client's
/// messages in order, so whatever would arrive from earlier asks arrives before the marker.
pub async fn requests_before_marker(
    process: &async_nats::Client,
    received: &mut mpsc::UnboundedReceiver<Received>,
    marker: &str,
) -> Vec<Received> {
    process
        .publish(marker.to_owned(), "marker".into())
        .await
        .expect("publish the marker");
    let mut before = Vec::new();
    loop {
        let request = next_request(received).await;
        if request.subject == marker {
            return before;
        }
        before.push(request);
    }
}
