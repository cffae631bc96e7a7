//! The site's own stream `EF_SITE_<x>` (subjects `ef.site.<x>.>`) as the site process makes it, a marker that
//! shows what it stored before, and waiting for a message to be stored.

use std::time::Duration;

use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::{stream, Context};
use events::Token;

/// `EF_SITE_<site>`, listening on `ef.site.<site>.>`, made through `process_js`; returns its name.
pub async fn create_site_stream(process_js: &Context, site: &Token) -> String {
    let name = format!("EF_SITE_{site}");
    process_js
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![format!("ef.site.{site}.>")],
            ..Default::default()
        })
        .await
        .expect("create the site stream");
    name
}

/// Stores a marker in the site stream through `process_js` (the site process, in `SITE`) and returns its sequence:
/// `1` means the stream stored nothing before it.
pub async fn store_marker(process_js: &Context, site: &Token) -> u64 {
    let ack = process_js
        .publish(format!("ef.site.{site}.marker"), "marker".into())
        .await
        .expect("publish the marker")
        .await
        .expect("the marker is stored");
    ack.sequence
}

/// How long a test waits for a message to be stored.
const DEADLINE: Duration = Duration::from_secs(20);

/// The last message stream `name` stored on `subject`, once there is one (through `process_js`); panics after the
/// deadline.
pub async fn wait_until_stored(process_js: &Context, name: &str, subject: &str) -> StreamMessage {
    let stream = process_js.get_stream(name).await.expect("the stream");
    let stored = async {
        loop {
            if let Ok(message) = stream.get_last_raw_message_by_subject(subject).await {
                return message;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(DEADLINE, stored)
        .await
        .unwrap_or_else(|_| panic!("nothing stored on {subject} within {DEADLINE:?}"))
}

/// The subjects of every message of stream `name`, in order (through `process_js`).
pub async fn stored_subjects(process_js: &Context, name: &str) -> Vec<String> {
    let stream = process_js.get_stream(name).await.expect("the stream");
    let mut subjects = Vec::new();
    let mut sequence = 1;
    while let Ok(message) = stream.get_raw_message(sequence).await {
        subjects.push(message.subject.to_string());
        sequence += 1;
    }
    subjects
}
