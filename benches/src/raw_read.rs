//! The raw limit a replay is compared against: an ordered consumer over the whole stream, counting messages and
//! payload bytes until the last sequence, decoding nothing.

use anyhow::{anyhow, bail, Context as _};
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::context::Context;
use futures::StreamExt;
use std::time::{Duration, Instant};

/// What one read saw.
pub struct ReadFigures {
    /// Messages delivered.
    pub messages: u64,
    /// Payload bytes delivered.
    pub payload_bytes: u64,
    /// Wall time, from looking up the stream to the last message.
    pub elapsed: Duration,
}

/// Reads all of `stream` once with a fresh ordered consumer; fails if it does not finish within `deadline`.
pub async fn read_all(js: &Context, stream: &str, deadline: Duration) -> anyhow::Result<ReadFigures> {
    tokio::time::timeout(deadline, read(js, stream))
        .await
        .map_err(|_| anyhow!("raw read of {stream} did not finish within {deadline:?}"))?
}

async fn read(js: &Context, stream: &str) -> anyhow::Result<ReadFigures> {
    let started = Instant::now();
    let mut handle = js
        .get_stream(stream)
        .await
        .with_context(|| format!("looking up {stream}"))?;
    let last = handle
        .info()
        .await
        .with_context(|| format!("reading {stream}'s info"))?
        .state
        .last_sequence;
    let consumer = handle
        .create_consumer(OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .with_context(|| format!("creating an ordered consumer on {stream}"))?;
    let mut messages = consumer
        .messages()
        .await
        .with_context(|| format!("starting to read {stream}"))?;
    let (mut count, mut payload_bytes) = (0u64, 0u64);
    if last > 0 {
        while let Some(message) = messages.next().await {
            let message = message.with_context(|| format!("reading {stream}"))?;
            count += 1;
            payload_bytes += message.payload.len() as u64;
            let seq = message
                .info()
                .map_err(|e| anyhow!("message {count} of {stream} has no JetStream info: {e}"))?
                .stream_sequence;
            if seq >= last {
                break;
            }
        }
    }
    let elapsed = started.elapsed();
    if count != last {
        bail!("raw read of {stream} delivered {count} messages, the stream's last sequence is {last}");
    }
    Ok(ReadFigures {
        messages: count,
        payload_bytes,
        elapsed,
    })
}
