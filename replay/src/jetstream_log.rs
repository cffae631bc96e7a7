//! [`JetStreamLog`]: the `EventLog` port on JetStream.
//!
//! Appends carry `Nats-Msg-Id` = origin + event id (a retried append is deduplicated) and
//! `Nats-Expected-Last-Subject-Sequence` (one subject per aggregate and writer, so two writers racing on one
//! aggregate cannot both win). Reads go to both writer streams of the aggregate and quarantine what they cannot
//! decode.

use crate::message_decoder::decode_message;
use crate::quarantine::Quarantine;
use crate::stream_homes::StreamHomes;
use crate::stream_reader::{last_seq_on_subject, read_range, ReadError};
use actors::{EventLog, LogError, Positions, Tail};
use async_nats::jetstream::context::{Context, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use events::subject::Companion;
use events::{subject, AggregateRef, Envelope, Writer};
use futures::TryStreamExt;

/// The event log on a JetStream server (hub or site).
#[derive(Clone)]
pub struct JetStreamLog {
    homes: StreamHomes,
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
        Self::with_homes(StreamHomes::single(js), quarantine)
    }

    /// A log over streams in several contexts (the hub: intents in its own account, each site's copy in that
    /// site's account).
    pub fn with_homes(homes: StreamHomes, quarantine: Quarantine) -> Self {
        Self { homes, quarantine }
    }

    /// The default JetStream context.
    pub fn jetstream(&self) -> &Context {
        self.homes.default_home()
    }

    /// Where each stream lives.
    pub fn homes(&self) -> &StreamHomes {
        &self.homes
    }

    /// The quarantine this log records into.
    pub fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }
}

impl JetStreamLog {
    /// Fails fast while a connection that was up is down, instead of waiting out request timeouts: the caller (an
    /// actor) then stops and is restarted from snapshot + tail once the server is back. A connection still being
    /// made for the first time (`Pending`) is waited for by the request itself.
    fn require_connected(&self) -> Result<(), LogError> {
        match self.homes.default_home().client().connection_state() {
            async_nats::connection::State::Disconnected => Err(LogError::Unavailable(
                "not connected to nats-server (disconnected)".into(),
            )),
            _ => Ok(()),
        }
    }
}

fn unavailable(e: ReadError) -> LogError {
    LogError::Unavailable(e.to_string())
}

impl JetStreamLog {
    /// The sequence of the message right after `expected` on `subject`, if it carries `msg_id`.
    async fn already_stored(
        &self,
        stream: &str,
        subject: &str,
        expected: u64,
        msg_id: &str,
    ) -> Result<Option<u64>, LogError> {
        let js = self.homes.of(stream);
        let Some(last) = last_seq_on_subject(&js, stream, subject).await.map_err(unavailable)? else {
            return Ok(None);
        };
        let mut next = None;
        read_range(&js, stream, Some(subject), expected + 1, last, |m| {
            if next.is_none() {
                next = Some(m);
            }
        })
        .await
        .map_err(unavailable)?;
        Ok(next.filter(|m| m.msg_id.as_deref() == Some(msg_id)).map(|m| m.seq))
    }
}

impl JetStreamLog {
    /// Appends to `tail` every decodable event on `subject` in `stream` after `from`.
    async fn read_subject(&self, stream: &str, subject: &str, from: u64, tail: &mut Tail) -> Result<(), LogError> {
        let js = self.homes.of(stream);
        let Some(last) = last_seq_on_subject(&js, stream, subject).await.map_err(unavailable)? else {
            return Ok(());
        };
        if last <= from {
            return Ok(());
        }
        let mut raw = Vec::new();
        let highest = read_range(&js, stream, Some(subject), from + 1, last, |m| raw.push(m))
            .await
            .map_err(unavailable)?;
        for m in raw {
            if let Some(events) = decode_message(
                &self.quarantine,
                stream,
                m.seq,
                &m.subject,
                m.stored_unix_ms,
                &m.payload,
            ) {
                tail.records.extend(events);
            }
        }
        tail.scanned.advance(stream, highest);
        Ok(())
    }
}

impl EventLog for JetStreamLog {
    async fn read(&self, aggregate: &AggregateRef, after: &Positions) -> Result<Tail, LogError> {
        self.require_connected()?;
        tracing::debug!(target: "edgefleet::log", %aggregate, "log read");
        let mut tail = Tail::default();
        let own = [Writer::Hub, Writer::Site]
            .into_iter()
            .filter_map(|w| Some((subject::stream(w, aggregate)?, subject::subject(w, aggregate)?)));
        let mut sources: Vec<(String, String)> = own.collect();
        for companion in subject::companions(aggregate) {
            match companion {
                Companion::Exact { stream, subject } => sources.push((stream, subject)),
                Companion::EverySite => {
                    let mut names: Vec<String> = self
                        .homes
                        .default_home()
                        .stream_names()
                        .try_collect()
                        .await
                        .map_err(|e| LogError::Unavailable(e.to_string()))?;
                    names.extend(self.homes.placed_streams());
                    names.sort();
                    names.dedup();
                    for site in names.iter().filter_map(|n| subject::site_of_stream(n)) {
                        sources.push((
                            subject::site_stream(&site),
                            format!("ef.site.{site}.{}.{}", aggregate.kind, aggregate.id),
                        ));
                    }
                }
            }
        }
        // Each stream is read from the aggregate's position in it. Where one stream carries two of its subjects
        // (a rollout's site companion also folds the fleet-wide plan from EF_INTENT), only one of them is ever
        // written on this side, so a shared position cannot skip a message.
        for (stream, subject) in sources {
            self.read_subject(&stream, &subject, after.get(&stream), &mut tail)
                .await?;
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
        let (Some(stream), Some(subject)) = (subject::stream(writer, aggregate), subject::subject(writer, aggregate))
        else {
            return Err(LogError::NotWritable {
                writer,
                aggregate: aggregate.clone(),
            });
        };
        debug_assert!(
            events.iter().all(|e| &e.aggregate == aggregate),
            "append of a foreign aggregate's event"
        );
        let Some(first) = events.first() else {
            return Ok(vec![]);
        };
        // One decision, one message: every event of it is stored, or none (see `events::encode_decision`).
        let message = PublishMessage::build()
            .payload(events::encode_decision(events).into())
            .message_id(first.msg_id())
            .expected_last_subject_sequence(expected_last);
        let started = std::time::Instant::now();
        let acked = match self.homes.of(&stream).send_publish(subject.clone(), message).await {
            Ok(ack) => ack.await,
            Err(e) => Err(e),
        };
        if acked.is_ok() {
            crate::append_latency::append_latency().observe(started.elapsed());
        }
        let seq = match acked {
            Ok(ack) => ack.sequence,
            Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                // The server checks the expected sequence before deduplicating, so a retry whose first try was
                // stored (ack lost) lands here. It is ours if the message after `expected_last` carries our id.
                match self
                    .already_stored(&stream, &subject, expected_last, &first.msg_id())
                    .await?
                {
                    Some(seq) => {
                        tracing::debug!(%subject, seq, "retried append was already stored");
                        seq
                    }
                    None => {
                        return Err(LogError::Conflict {
                            subject,
                            expected: expected_last,
                        })
                    }
                }
            }
            Err(e) => return Err(publish_error(&subject, e.kind(), e.to_string())),
        };
        let written = events.iter().map(|_| (stream.clone(), seq)).collect();
        Ok(written)
    }
}

fn publish_error(subject: &str, kind: PublishErrorKind, message: String) -> LogError {
    match kind {
        PublishErrorKind::TimedOut | PublishErrorKind::BrokenPipe | PublishErrorKind::MaxAckPending => {
            LogError::Unavailable(format!("append to {subject}: {message}"))
        }
        PublishErrorKind::StreamNotFound => LogError::Refused(format!(
            "no stream takes {subject}: start the hub or site so it creates its streams"
        )),
        _ => LogError::Refused(format!("append to {subject}: {message}")),
    }
}
