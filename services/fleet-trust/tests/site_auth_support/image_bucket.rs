//! The site's image bucket `ef-images` as the site process fills it, with objects of a known chunk size.

use async_nats::jetstream::{self, object_store};
use async_nats::Client;
use fleet_trust::IMAGE_BUCKET;

/// Bytes per object-store chunk in these tests (async-nats' default).
pub const CHUNK_BYTES: usize = 128 * 1024;

/// A bucket `ef-images` made by the site process, holding `content` as `name` in [`CHUNK_BYTES`] chunks.
pub async fn image_bucket_with(process: &Client, name: &str, content: &[u8]) -> object_store::ObjectStore {
    let bucket = jetstream::new(process.clone())
        .create_object_store(object_store::Config {
            bucket: IMAGE_BUCKET.to_owned(),
            ..Default::default()
        })
        .await
        .expect("create the image bucket");
    let metadata = object_store::ObjectMetadata {
        name: name.to_owned(),
        chunk_size: Some(CHUNK_BYTES),
        ..Default::default()
    };
    bucket.put(metadata, &mut &content[..]).await.expect("put the image");
    bucket
}

/// `length` bytes that differ from chunk to chunk.
pub fn image_bytes(length: usize) -> Vec<u8> {
    (0..length).map(|at| (at % 251) as u8).collect()
}
