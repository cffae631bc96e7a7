//! Reads a range of a telemetry copy with an ordered consumer: each batch with its copy sequence, its origin
//! sequence at the site (from `Nats-Stream-Source`) and its subject.

use crate::forward_cursor::CopiedBatch;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::context::Context;
use bytes::Bytes;
use futures::StreamExt;
use std::time::Duration;

/// How long a read waits for the next batch before taking the range as read (batches discarded under it).
const IDLE: Duration = Duration::from_secs(5);

/// One batch read from the copy.
#[derive(Clone, Debug)]
pub struct ReadBatch {
    /// Where it sits and came from; `at_ms` is filled in once decoded.
    pub copied: CopiedBatch,
    /// Its subject (`ef.tel.<site>.<node>.metrics`).
    pub subject: String,
    /// The framed batch.
    pub payload: Bytes,
}

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reading {stream}: {reason}")]
pub struct CopyReadError {
    /// The stream.
    pub stream: String,
    /// What failed.
    pub reason: String,
}

/// The batches of `stream` from `from` through `to` that it still holds, in order.
pub async fn read_range(js: &Context, stream: &str, from: u64, to: u64) -> Result<Vec<ReadBatch>, CopyReadError> {
    let failed = |reason: String| CopyReadError {
        stream: stream.to_string(),
        reason,
    };
    let mut out = Vec::new();
    if to < from.max(1) {
        return Ok(out);
    }
    let handle = js.get_stream_no_info(stream).await.map_err(|e| failed(e.to_string()))?;
    let consumer = handle
        .create_consumer(OrderedConfig {
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: from.max(1),
            },
            ..Default::default()
        })
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut messages = consumer.messages().await.map_err(|e| failed(e.to_string()))?;
    loop {
        let next = match tokio::time::timeout(IDLE, messages.next()).await {
            Ok(Some(next)) => next.map_err(|e| failed(e.to_string()))?,
            Ok(None) | Err(_) => break,
        };
        let (seq, pending) = {
            let info = next.info().map_err(|e| failed(e.to_string()))?;
            (info.stream_sequence, info.pending)
        };
        if seq > to {
            break;
        }
        let origin_seq = next
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Stream-Source"))
            .and_then(|v| origin_sequence(v.as_str()))
            .unwrap_or(0);
        out.push(ReadBatch {
            copied: CopiedBatch {
                seq,
                origin_seq,
                at_ms: 0,
            },
            subject: next.message.subject.to_string(),
            payload: next.message.payload.clone(),
        });
        if seq >= to || pending == 0 {
            break;
        }
    }
    Ok(out)
}

/// The origin sequence in a `Nats-Stream-Source` header (`<stream>[:<hash>] <seq> <filter> <dest>`).
pub fn origin_sequence(header: &str) -> Option<u64> {
    header.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_sequence_is_the_headers_second_field() {
        assert_eq!(origin_sequence("EF_TEL_s1:f2a7c9 57 > >"), Some(57));
        assert_eq!(origin_sequence("EF_TEL_s1 3"), Some(3));
        assert_eq!(origin_sequence("EF_TEL_s1"), None);
        assert_eq!(origin_sequence("EF_TEL_s1 x"), None);
    }
}
