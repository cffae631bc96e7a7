//! Reading an object of the image bucket the way a node's agent does (`services/src/agent/image_reader.rs`, which a
//! test of this crate cannot import): the info is the last message on `$O.ef-images.M.<name, base64url>`, the chunks
//! the messages on `$O.ef-images.C.<nuid>`, each read with a direct get of the next message on that subject. No
//! consumer, no stream info. A direct get that fails for another reason than "no such message" (the server is
//! restarting) is tried again until a deadline.

use std::time::{Duration, Instant};

use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::object_store::ObjectInfo;
use async_nats::jetstream::stream::{DirectGetError, DirectGetErrorKind, Stream};
use async_nats::jetstream::Context;
use data_encoding::BASE64URL;
use fleet_trust::IMAGE_BUCKET;
use sha2::{Digest, Sha256};

/// How long one direct get is tried again while the server does not answer.
const DEADLINE: Duration = Duration::from_secs(20);

/// An object being read chunk by chunk.
pub struct DirectGetReader {
    stream: Stream<()>,
    /// The object's info.
    pub info: ObjectInfo,
    chunk_subject: String,
    next_sequence: u64,
    chunks_read: usize,
    bytes: Vec<u8>,
}

impl DirectGetReader {
    /// Reads the info of object `name` through `js`.
    pub async fn open(js: &Context, name: &str) -> Self {
        let stream = js
            .get_stream_no_info(format!("OBJ_{IMAGE_BUCKET}"))
            .await
            .expect("the image stream's handle");
        let subject = format!("$O.{IMAGE_BUCKET}.M.{}", BASE64URL.encode(name.as_bytes()));
        let message = retried(|| stream.direct_get_last_for_subject(subject.as_str()))
            .await
            .expect("the object's info");
        let info: ObjectInfo = serde_json::from_slice(&message.payload).expect("the info decodes");
        Self {
            stream,
            chunk_subject: format!("$O.{IMAGE_BUCKET}.C.{}", info.nuid),
            info,
            next_sequence: 1,
            chunks_read: 0,
            bytes: Vec::new(),
        }
    }

    /// Reads the next chunk; false once every chunk the info names has been read.
    pub async fn read_chunk(&mut self) -> bool {
        if self.chunks_read == self.info.chunks {
            return false;
        }
        let (stream, subject, sequence) = (&self.stream, self.chunk_subject.as_str(), self.next_sequence);
        let chunk = retried(|| stream.direct_get_next_for_subject(subject, Some(sequence)))
            .await
            .unwrap_or_else(|| panic!("chunk {} is missing", self.chunks_read));
        assert_eq!(chunk.subject.as_str(), subject);
        self.bytes.extend_from_slice(&chunk.payload);
        self.next_sequence = chunk.sequence + 1;
        self.chunks_read += 1;
        true
    }

    /// Reads the remaining chunks; returns the object's bytes, checked against the info's size and digest.
    pub async fn read_to_end(mut self) -> Vec<u8> {
        while self.read_chunk().await {}
        assert_eq!(self.bytes.len(), self.info.size, "the size in the info");
        let digest = format!("SHA-256={}", BASE64URL.encode(&Sha256::digest(&self.bytes)));
        assert_eq!(
            self.info.digest.as_deref(),
            Some(digest.as_str()),
            "the digest in the info"
        );
        self.bytes
    }
}

/// The message `get` returns, `None` if there is no such message; other errors are tried again until the deadline.
async fn retried<F, Fut>(mut get: F) -> Option<StreamMessage>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<StreamMessage, DirectGetError>>,
{
    let started = Instant::now();
    loop {
        match get().await {
            Ok(message) => return Some(message),
            Err(error) if error.kind() == DirectGetErrorKind::NotFound => return None,
            Err(error) => {
                assert!(
                    started.elapsed() < DEADLINE,
                    "direct get failing for {DEADLINE:?}: {error}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
