//! [`JetStreamLog`]: the `EventLog` port on JetStream.
//!
//! Appends carry `Nats-Msg-Id` = origin + event id (a retried append is deduplicated) and
//! `Nats-Expected-Last-Subject-Sequence` (one subject per aggregate and writer, so two writers racing on one
//! aggregate cannot both win). Reads go to both writer streams of the aggregate and quarantine what they cannot
//! decode.

use crate::message_decoder::decode_message;
use crate::quarantine::Quarantine;
use crate::stream_reader::{last_seq_on_subject, read_range, ReadError};
use actors::{EventLog, LogError, Positions, Tail};
use async_nats::jetstream::context::{Context, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use events::{subject, AggregateRef, Envelope, Writer};

/// The event log on a JetStream server (hub or site).
#[derive(Clone)]
pub struct JetStreamLog {
    js: Context,
    quarantine: Quarantine,
}

impl std::fmt::Debug for JetStreamLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStreamLog")
            .field("quarantine", &self.quarantine)
            .finish_non_exhaustive()
    }
}

impl JetStreamLog {
    /// A log over `js`, quarantining undecodable messages into `quarantine`.
    pub fn new(js: Context, quarantine: Quarantine) -> Self {
        Self { js, quarantine }
    }

    /// The JetStream context.
    pub fn jetstream(&self) -> &Context {
        &self.js
    }

    /// The quarantine this log records into.
    pub fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }
}

fn unavailable(e: ReadError) -> LogError {
    LogError::Unavailable(e.to_string())
}

impl EventLog for JetStreamLog {
    async fn read(&self, aggregate: &AggregateRef, after: &Positions) -> Result<Tail, LogError> {
        let mut tail = Tail::default();
        for writer in [Writer::Hub, Writer::Site] {
            let (Some(stream), Some(subject)) = (
                subject::stream(writer, aggregate),
                subject::subject(writer, aggregate),
            ) else {
                continue;
            };
            let from = after.get(&stream);
            let Some(last) = last_seq_on_subject(&self.js, &stream, &subject)
                .await
                .map_err(unavailable)?
            else {
                continue;
            };
            if last <= from {
                continue;
            }
            let mut raw = Vec::new();
            let highest = read_range(&self.js, &stream, Some(&subject), from + 1, last, |m| {
                raw.push(m)
            })
            .await
            .map_err(unavailable)?;
            for m in raw {
                if let Some(recorded) = decode_message(
                    &self.quarantine,
                    &stream,
                    m.seq,
                    &m.subject,
                    m.stored_unix_ms,
                    &m.payload,
                ) {
                    tail.records.push(recorded);
                }
            }
            tail.scanned.advance(&stream, highest);
        }
        Ok(tail)
    }

    async fn append(
        &self,
        aggregate: &AggregateRef,
        writer: Writer,
        expected_last: u64,
        events: &[Envelope],
    ) -> Result<Vec<(String, u64)>, LogError> {
        let (Some(stream), Some(subject)) = (
            subject::stream(writer, aggregate),
            subject::subject(writer, aggregate),
        ) else {
            return Err(LogError::NotWritable {
                writer,
                aggregate: aggregate.clone(),
            });
        };
        let mut expected = expected_last;
        let mut written = Vec::with_capacity(events.len());
        for envelope in events {
            debug_assert_eq!(
                &envelope.aggregate, aggregate,
                "append of a foreign aggregate's event"
            );
            let message = PublishMessage::build()
                .payload(events::encode(envelope).into())
                .message_id(envelope.msg_id())
                .expected_last_subject_sequence(expected);
            let ack = self
                .js
                .send_publish(subject.clone(), message)
                .await
                .map_err(|e| publish_error(&subject, expected, e.kind(), e.to_string()))?
                .await
                .map_err(|e| publish_error(&subject, expected, e.kind(), e.to_string()))?;
            if ack.duplicate {
                tracing::debug!(%subject, seq = ack.sequence, id = %envelope.id, "append deduplicated");
            }
            expected = ack.sequence;
            written.push((stream.clone(), ack.sequence));
        }
        Ok(written)
    }
}

fn publish_error(
    subject: &str,
    expected: u64,
    kind: PublishErrorKind,
    message: String,
) -> LogError {
    match kind {
        PublishErrorKind::WrongLastSequence => LogError::Conflict {
            subject: subject.to_string(),
            expected,
        },
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending => {
            LogError::Unavailable(format!("append to {subject}: {message}"))
        }
        PublishErrorKind::StreamNotFound => LogError::Refused(format!(
            "no stream takes {subject}: start the hub or site so it creates its streams"
        )),
        _ => LogError::Refused(format!("append to {subject}: {message}")),
    }
}
