//! Reads a range of one stream with an ordered consumer (flow-controlled, batched by the server), for replay and
//! aggregate loads.

use crate::quiet_timer::QuietTimer;
use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::context::Context;
use async_nats::jetstream::stream::DirectGetErrorKind;
use bytes::Bytes;
use futures::StreamExt;
use std::time::Duration;

/// How long a read waits for the next message before deciding the range is exhausted (messages deleted under it).
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// One stored message, as read.
#[derive(Clone, Debug)]
pub struct RawMessage {
    /// Stream sequence.
    pub seq: u64,
    /// Subject.
    pub subject: async_nats::Subject,
    /// `Nats-Msg-Id` header, if present.
    pub msg_id: Option<String>,
    /// Server time of the append, milliseconds since the epoch.
    pub stored_unix_ms: u64,
    /// Payload bytes.
    pub payload: Bytes,
}

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The server could not be asked or did not answer.
    #[error("reading {stream}: {reason}")]
    Unavailable {
        /// The stream.
        stream: String,
        /// What failed.
        reason: String,
    },
}

fn unavailable(stream: &str, reason: impl ToString) -> ReadError {
    ReadError::Unavailable {
        stream: stream.to_string(),
        reason: reason.to_string(),
    }
}

/// True if `stream` exists on the server behind `js`.
pub async fn stream_exists(js: &Context, stream: &str) -> Result<bool, ReadError> {
    match js.get_stream(stream).await {
        Ok(_) => Ok(true),
        Err(e) => match e.kind() {
            async_nats::jetstream::context::GetStreamErrorKind::JetStream(err)
                if err.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND =>
            {
                Ok(false)
            }
            _ => Err(unavailable(stream, e)),
        },
    }
}

/// The stream's last sequence (0 if empty), or `None` if the stream does not exist.
pub async fn last_seq(js: &Context, stream: &str) -> Result<Option<u64>, ReadError> {
    match js.get_stream(stream).await {
        Ok(mut s) => Ok(Some(
            s.info().await.map_err(|e| unavailable(stream, e))?.state.last_sequence,
        )),
        Err(e) => match e.kind() {
            async_nats::jetstream::context::GetStreamErrorKind::JetStream(err)
                if err.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND =>
            {
                Ok(None)
            }
            _ => Err(unavailable(stream, e)),
        },
    }
}

/// Sequence of the last message on `subject` in `stream` (`None`: no such message or no such stream).
pub async fn last_seq_on_subject(js: &Context, stream: &str, subject: &str) -> Result<Option<u64>, ReadError> {
    let handle = js
        .get_stream_no_info(stream)
        .await
        .map_err(|e| unavailable(stream, e))?;
    match handle.direct_get_last_for_subject(subject).await {
        Ok(message) => Ok(Some(message.sequence)),
        Err(e) if matches!(e.kind(), DirectGetErrorKind::NotFound) => Ok(None),
        Err(e) if matches!(e.kind(), DirectGetErrorKind::TimedOut) => Err(unavailable(stream, e)),
        Err(e) => {
            // A missing stream shows up as a failed direct get; tell it apart from an outage.
            if !stream_exists(js, stream).await? {
                return Ok(None);
            }
            Err(unavailable(stream, e))
        }
    }
}

/// Calls `on_message` for every message of `stream` matching `filter` from `start_seq` through `until_seq`.
/// Returns the highest sequence delivered (0 if none).
pub async fn read_range(
    js: &Context,
    stream: &str,
    filter: Option<&str>,
    start_seq: u64,
    until_seq: u64,
    mut on_message: impl FnMut(RawMessage),
) -> Result<u64, ReadError> {
    let mut reader = RangeReader::open(js, stream, filter, start_seq, until_seq).await?;
    while let Some(message) = reader.next().await? {
        on_message(message);
    }
    Ok(reader.highest())
}

/// An ordered read of one range of a stream, message by message.
pub struct RangeReader {
    stream: String,
    start_seq: u64,
    until_seq: u64,
    messages: Option<async_nats::jetstream::consumer::pull::Ordered>,
    highest: u64,
    /// The read gives up once nothing arrived for [`IDLE_TIMEOUT`].
    idle: QuietTimer,
}

impl RangeReader {
    /// Starts reading `stream` (only `filter`, if given) from `start_seq` through `until_seq`.
    pub async fn open(
        js: &Context,
        stream: &str,
        filter: Option<&str>,
        start_seq: u64,
        until_seq: u64,
    ) -> Result<Self, ReadError> {
        let mut reader = Self {
            stream: stream.to_string(),
            start_seq,
            until_seq,
            messages: None,
            highest: 0,
            idle: QuietTimer::new(IDLE_TIMEOUT),
        };
        if until_seq < start_seq.max(1) {
            return Ok(reader);
        }
        let handle = js
            .get_stream_no_info(stream)
            .await
            .map_err(|e| unavailable(stream, e))?;
        let config = OrderedConfig {
            filter_subject: filter.unwrap_or_default().to_string(),
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start_seq.max(1),
            },
            ..Default::default()
        };
        let consumer = handle
            .create_consumer(config)
            .await
            .map_err(|e| unavailable(stream, e))?;
        reader.messages = Some(consumer.messages().await.map_err(|e| unavailable(stream, e))?);
        Ok(reader)
    }

    /// The highest sequence delivered so far (0 if none).
    pub fn highest(&self) -> u64 {
        self.highest
    }

    /// The next message of the range, or `None` once the range is read.
    pub async fn next(&mut self) -> Result<Option<RawMessage>, ReadError> {
        let stream = self.stream.as_str();
        let Some(messages) = self.messages.as_mut() else {
            return Ok(None);
        };
        let next = tokio::select! {
            biased;
            next = messages.next() => match next {
                Some(next) => next.map_err(|e| unavailable(stream, e))?,
                None => {
                    self.messages = None;
                    return Ok(None);
                }
            },
            () = self.idle.quiet() => {
                tracing::warn!(
                    stream,
                    start_seq = self.start_seq,
                    until_seq = self.until_seq,
                    highest = self.highest,
                    "range read idle; treating as exhausted"
                );
                self.messages = None;
                return Ok(None);
            }
        };
        self.idle.heard();
        let (seq, pending, stored_unix_ms) = {
            let info = next.info().map_err(|e| unavailable(stream, e))?;
            let stored = (info.published.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
            (info.stream_sequence, info.pending, stored)
        };
        let msg_id = next
            .headers
            .as_ref()
            .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|v| v.as_str().to_string());
        let message = next.message;
        self.highest = seq;
        if seq >= self.until_seq || pending == 0 {
            self.messages = None; // the range is read: the consumer goes with it
        }
        Ok(Some(RawMessage {
            seq,
            subject: message.subject,
            msg_id,
            stored_unix_ms,
            payload: message.payload,
        }))
    }
}
