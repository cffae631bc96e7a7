//! Reading an OS image from the site's `ef-images` replica with direct gets only, never a consumer: the object's
//! info is the last message on its info subject, its chunks the messages on its chunk subject, read one by one as
//! "the next message on that subject from sequence N". A node's permissions allow exactly these two requests
//! (`fleet_trust::node_permissions`): a reader with consumers would need consumer creation, whose deliver subject
//! nats-server does not check against the node's permissions.
//!
//! Owns: the bound on an image's size, the size and digest checks, and retrying a failed direct get a few times
//! (the site server restarting) before giving up. Must never trust the info's claims before checking them, nor
//! allocate from them.

mod stored_info;

use async_nats::jetstream::stream::{DirectGetError, DirectGetErrorKind, Stream};
use async_nats::jetstream::{self, message::StreamMessage};
use replay::sourcing::IMAGE_BUCKET;
use std::future::Future;
use std::time::Duration;
use stored_info::{chunk_subject, info_subject, ContentRefused, ImageInfo, InfoRefused};

/// Direct gets tried for one message before the read gives up (the site server may be restarting).
const DIRECT_GET_TRIES: u32 = 5;
/// Pause between two tries of a direct get.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// How long one direct get (one chunk, 128 KiB by default, from the node's own site server) may take. A request sent
/// while the connection is down is lost and waits this long before its retry.
const DIRECT_GET_TIMEOUT: Duration = Duration::from_secs(5);

/// An image read from the bucket, checked against its info.
#[derive(Debug)]
pub struct ReadImage {
    /// The object's bytes.
    pub bytes: Vec<u8>,
    /// Its `signature` metadata entry, if it was signed.
    pub signature: Option<String>,
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageReadError {
    /// The bucket has no object of that name (yet: the replica may still be catching up).
    #[error("image {name} is not in the site's {IMAGE_BUCKET} replica")]
    NotFound {
        /// The object's name.
        name: String,
    },
    /// The object's info is not one a node reads.
    #[error("image {name} refused: {refused}")]
    Info {
        /// The object's name.
        name: String,
        /// Why.
        refused: InfoRefused,
    },
    /// A chunk the info promises is not there.
    #[error("chunk {index} of image {name} is missing: the image was replaced or is still arriving; try again later")]
    ChunkMissing {
        /// The object's name.
        name: String,
        /// The chunk's index, from 0.
        index: u64,
    },
    /// The bytes read are not the object its info describes.
    #[error("image {name} refused: {refused}")]
    Content {
        /// The object's name.
        name: String,
        /// Why.
        refused: ContentRefused,
    },
    /// The site server did not answer a direct get, or answered with an error, on every try.
    #[error("the site server did not serve image {name} after {DIRECT_GET_TRIES} tries: {error}")]
    Unavailable {
        /// The object's name.
        name: String,
        /// The last try's error.
        error: DirectGetError,
    },
}

impl ImageReadError {
    /// True if reading again later may succeed (the image not there yet, the server away), false if the image
    /// itself is refused.
    pub fn is_worth_retrying_later(&self) -> bool {
        matches!(
            self,
            Self::NotFound { .. } | Self::ChunkMissing { .. } | Self::Unavailable { .. }
        )
    }
}

/// Reads object `name` of the `ef-images` bucket through `js` with direct gets, and checks it against its info.
pub async fn read_image(js: &jetstream::Context, name: &str) -> Result<ReadImage, ImageReadError> {
    let not_found = || ImageReadError::NotFound { name: name.to_owned() };
    if name.is_empty() {
        return Err(not_found());
    }
    let mut js = js.clone();
    js.set_timeout(DIRECT_GET_TIMEOUT);
    // Only a handle: fails on an invalid stream name alone, and asks the server nothing (no stream info).
    let stream = js
        .get_stream_no_info(format!("OBJ_{IMAGE_BUCKET}"))
        .await
        .map_err(|_| not_found())?;
    let info_message = with_retries(name, || {
        stream.direct_get_last_for_subject(info_subject(IMAGE_BUCKET, name))
    })
    .await?
    .ok_or_else(not_found)?;
    let info = ImageInfo::decode(&info_message.payload).map_err(|refused| ImageReadError::Info {
        name: name.to_owned(),
        refused,
    })?;
    let bytes = read_chunks(&stream, name, &info).await?;
    info.check(&bytes).map_err(|refused| ImageReadError::Content {
        name: name.to_owned(),
        refused,
    })?;
    Ok(ReadImage {
        bytes,
        signature: info.signature,
    })
}

/// The `info.chunks` chunks of `name`, in stream order, concatenated; stops as soon as they exceed `info.size`.
async fn read_chunks(stream: &Stream<()>, name: &str, info: &ImageInfo) -> Result<Vec<u8>, ImageReadError> {
    let subject = chunk_subject(IMAGE_BUCKET, &info.nuid);
    // Grown as chunks arrive, never sized from the info's claim.
    let mut bytes = Vec::new();
    let mut next_sequence = 1;
    for index in 0..info.chunks {
        let chunk = with_retries(name, || {
            stream.direct_get_next_for_subject(subject.as_str(), Some(next_sequence))
        })
        .await?
        .filter(|chunk| chunk.subject.as_str() == subject)
        .ok_or_else(|| ImageReadError::ChunkMissing {
            name: name.to_owned(),
            index,
        })?;
        bytes.extend_from_slice(&chunk.payload);
        let read = bytes.len() as u64;
        if read > info.size {
            let refused = ContentRefused::Size { size: info.size, read };
            return Err(ImageReadError::Content {
                name: name.to_owned(),
                refused,
            });
        }
        next_sequence = chunk.sequence.saturating_add(1);
    }
    Ok(bytes)
}

/// Runs the direct get `get` until it answers: `Some(message)`, or `None` if the stream has no such message.
/// Anything else (a timeout, no responders while the server restarts) is tried again after a pause, up to
/// [`DIRECT_GET_TRIES`] times.
async fn with_retries<F, Fut>(name: &str, mut get: F) -> Result<Option<StreamMessage>, ImageReadError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<StreamMessage, DirectGetError>>,
{
    let mut tries_left = DIRECT_GET_TRIES;
    loop {
        tries_left -= 1;
        match get().await {
            Ok(message) => return Ok(Some(message)),
            Err(error) if error.kind() == DirectGetErrorKind::NotFound => return Ok(None),
            Err(error) if tries_left == 0 => {
                return Err(ImageReadError::Unavailable {
                    name: name.to_owned(),
                    error,
                })
            }
            Err(error) => {
                tracing::debug!(image = name, %error, tries_left, "direct get failed; trying again");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_nats::jetstream::object_store;
    use nats_process::NatsServer;

    /// 1 MiB: eight chunks of async-nats' default 128 KiB.
    const IMAGE_BYTES: usize = 1 << 20;

    /// `IMAGE_BYTES` bytes that differ from chunk to chunk.
    fn image() -> Vec<u8> {
        (0..IMAGE_BYTES).map(|at| (at % 251) as u8).collect()
    }

    /// A server holding `image()` as `os-1` in the `ef-images` bucket, signed `ab12`.
    async fn bucket_with_image() -> (NatsServer, jetstream::Context, object_store::ObjectInfo) {
        let server = NatsServer::builder("t").start().await.expect("start nats-server");
        let js = jetstream::new(server.connect().await.expect("connect"));
        let bucket = js
            .create_object_store(object_store::Config {
                bucket: IMAGE_BUCKET.to_owned(),
                ..Default::default()
            })
            .await
            .expect("create the bucket");
        let metadata = object_store::ObjectMetadata {
            name: "os-1".to_owned(),
            metadata: [("signature".to_owned(), "ab12".to_owned())].into(),
            ..Default::default()
        };
        let info = bucket.put(metadata, &mut &image()[..]).await.expect("put the image");
        (server, js, info)
    }

    /// The stream sequences of the chunks of `info`, in order.
    async fn chunk_sequences(js: &jetstream::Context, info: &object_store::ObjectInfo) -> Vec<u64> {
        let stream = js
            .get_stream_no_info(format!("OBJ_{IMAGE_BUCKET}"))
            .await
            .expect("stream");
        let subject = chunk_subject(IMAGE_BUCKET, &info.nuid);
        let mut sequences = Vec::new();
        let mut next = 1;
        while let Ok(chunk) = stream.direct_get_next_for_subject(subject.as_str(), Some(next)).await {
            sequences.push(chunk.sequence);
            next = chunk.sequence + 1;
        }
        sequences
    }

    #[tokio::test]
    async fn a_multi_chunk_image_put_by_the_object_store_is_read_back_byte_identical() {
        let (_server, js, info) = bucket_with_image().await;

        let read = read_image(&js, "os-1").await.expect("read the image");

        assert_eq!(info.chunks, 8);
        assert!(read.bytes == image(), "the image read differs from the one put");
        assert_eq!(read.signature.as_deref(), Some("ab12"));
        let missing = read_image(&js, "os-2").await.expect_err("os-2 was never put");
        assert!(matches!(missing, ImageReadError::NotFound { .. }), "{missing}");
        assert!(missing.is_worth_retrying_later());
    }

    #[tokio::test]
    async fn a_read_begun_while_the_site_server_is_down_completes_once_it_is_back() {
        let (mut server, js, _info) = bucket_with_image().await;

        server.kill9();
        let reading = tokio::spawn(async move { read_image(&js, "os-1").await });
        server.restart().await.expect("restart nats-server");
        let read = reading.await.expect("the read task").expect("read the image");

        assert!(read.bytes == image(), "the image read differs from the one put");
    }

    #[tokio::test]
    async fn a_chunk_replaced_with_other_bytes_is_refused_by_the_digest_and_a_lost_one_is_missing() {
        let (_server, js, info) = bucket_with_image().await;
        let stream = js.get_stream(format!("OBJ_{IMAGE_BUCKET}")).await.expect("stream");
        let chunks = chunk_sequences(&js, &info).await;
        assert_eq!(chunks.len(), 8);

        // Chunk 3 deleted and a chunk of the same length but other bytes appended: same size, wrong digest.
        stream.delete_message(chunks[3]).await.expect("delete chunk 3");
        let forged = vec![0xee; 128 * 1024];
        js.publish(chunk_subject(IMAGE_BUCKET, &info.nuid), forged.into())
            .await
            .expect("publish")
            .await
            .expect("stored");
        let corrupted = read_image(&js, "os-1").await.expect_err("a corrupted image was read");
        // Another chunk deleted: one fewer than the info promises.
        stream.delete_message(chunks[5]).await.expect("delete chunk 5");
        let short = read_image(&js, "os-1").await.expect_err("a short image was read");

        assert!(
            matches!(
                corrupted,
                ImageReadError::Content {
                    refused: ContentRefused::Digest,
                    ..
                }
            ),
            "{corrupted}"
        );
        assert!(!corrupted.is_worth_retrying_later());
        assert!(
            matches!(short, ImageReadError::ChunkMissing { index: 7, .. }),
            "{short}"
        );
    }

    #[tokio::test]
    async fn an_info_whose_digest_does_not_match_or_that_claims_too_much_is_refused() {
        let (_server, js, info) = bucket_with_image().await;
        let info_subject = info_subject(IMAGE_BUCKET, "os-1");
        let mut stored: serde_json::Value = serde_json::to_value(&info).expect("info as JSON");
        stored["digest"] = format!("SHA-256={}", data_encoding::BASE64URL.encode(&[7; 32])).into();
        let publish = |info: serde_json::Value| {
            let (js, subject) = (js.clone(), info_subject.clone());
            async move {
                let payload = serde_json::to_vec(&info).expect("json");
                js.publish(subject, payload.into())
                    .await
                    .expect("publish")
                    .await
                    .expect("stored");
            }
        };

        publish(stored.clone()).await;
        let wrong_digest = read_image(&js, "os-1").await.expect_err("read with a wrong digest");
        stored["size"] = (stored_info::MAX_IMAGE_BYTES + 1).into();
        publish(stored.clone()).await;
        let too_large = read_image(&js, "os-1").await.expect_err("read an oversized image");
        stored["deleted"] = true.into();
        publish(stored).await;
        let deleted = read_image(&js, "os-1").await.expect_err("read a deleted image");

        assert!(
            matches!(
                wrong_digest,
                ImageReadError::Content {
                    refused: ContentRefused::Digest,
                    ..
                }
            ),
            "{wrong_digest}"
        );
        assert!(
            matches!(
                too_large,
                ImageReadError::Info {
                    refused: InfoRefused::TooLarge { .. },
                    ..
                }
            ),
            "{too_large}"
        );
        assert!(
            matches!(
                deleted,
                ImageReadError::Info {
                    refused: InfoRefused::Deleted,
                    ..
                }
            ),
            "{deleted}"
        );
        assert!(!deleted.is_worth_retrying_later());
    }
}
