//! Loads the workload into a site stream as fast as JetStream acks it: async publish, a bounded window of acks in
//! flight, awaited oldest first.

use crate::workload::EncodedEvent;
use anyhow::{anyhow, bail, Context as _};
use async_nats::jetstream::context::Context;
use async_nats::Subject;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How to publish.
pub struct LoadOptions {
    /// Publish acks awaited at most this many messages behind the newest publish.
    pub acks_in_flight: usize,
    /// Set `Nats-Msg-Id` as the real writer does (costs the server a dedup-window entry per message).
    pub msg_id: bool,
}

/// What a load did.
pub struct LoadFigures {
    /// Messages acknowledged.
    pub messages: u64,
    /// Payload bytes published.
    pub payload_bytes: u64,
    /// Bytes the stream holds afterwards (payload, subject, headers, per-message overhead).
    pub stored_bytes: u64,
    /// Wall time from the first publish to the last ack.
    pub elapsed: Duration,
}

/// Publishes every event of `encoded` on its node's subject into `stream`, which must be empty, and checks the
/// stream holds exactly them afterwards.
pub async fn load(
    js: &Context,
    stream: &str,
    subjects: &[String],
    site: &str,
    encoded: &[EncodedEvent],
    options: &LoadOptions,
) -> anyhow::Result<LoadFigures> {
    assert!(options.acks_in_flight > 0, "at least one ack must be allowed in flight");
    let subjects: Vec<Subject> = subjects.iter().map(|s| Subject::from(s.as_str())).collect();
    let mut in_flight = VecDeque::with_capacity(options.acks_in_flight);
    let mut payload_bytes = 0;
    let started = Instant::now();
    for (i, event) in encoded.iter().enumerate() {
        if in_flight.len() == options.acks_in_flight {
            if let Some(ack) = in_flight.pop_front() {
                await_ack(ack, i).await?;
            }
        }
        let subject = subjects[event.node as usize].clone();
        let ack = if options.msg_id {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(
                async_nats::header::NATS_MESSAGE_ID,
                format!("{site}-{}", event.id).as_str(),
            );
            js.publish_with_headers(subject, headers, event.bytes.clone()).await
        } else {
            js.publish(subject, event.bytes.clone()).await
        }
        .with_context(|| format!("publishing event {i} into {stream}"))?;
        in_flight.push_back(ack);
        payload_bytes += event.bytes.len() as u64;
    }
    for ack in in_flight {
        await_ack(ack, encoded.len()).await?;
    }
    let elapsed = started.elapsed();

    let state = js
        .get_stream(stream)
        .await
        .with_context(|| format!("looking up {stream} after the load"))?
        .info()
        .await
        .with_context(|| format!("reading {stream}'s info after the load"))?
        .state
        .clone();
    let expected = encoded.len() as u64;
    if state.messages != expected || state.last_sequence != expected {
        bail!(
            "{stream} holds {} messages up to sequence {} after publishing {expected}; was it empty?",
            state.messages,
            state.last_sequence
        );
    }
    Ok(LoadFigures {
        messages: expected,
        payload_bytes,
        stored_bytes: state.bytes,
        elapsed,
    })
}

async fn await_ack(ack: async_nats::jetstream::context::PublishAckFuture, published: usize) -> anyhow::Result<()> {
    let ack = ack
        .await
        .map_err(|e| anyhow!("publish ack (after {published} publishes): {e}"))?;
    if ack.duplicate {
        bail!(
            "the server reported sequence {} as a duplicate: workload event ids are not unique",
            ack.sequence
        );
    }
    Ok(())
}
