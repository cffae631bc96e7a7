//! What the object store keeps about one object of a bucket, as a node reads it: the subjects of its info and its
//! chunks, the info decoded into what a reader needs (checked and bounded, never trusted), and the check of the
//! bytes read against it. Pure: no I/O, no panics on any payload.
//!
//! The encodings are async-nats 0.51's (`object_store/mod.rs`), which are nats.go's: the info subject is
//! `$O.<bucket>.M.<name in base64url, padded>`, the digest `SHA-256=<sha256 in base64url, padded>`.

use data_encoding::{BASE64URL, BASE64URL_NOPAD, HEXLOWER};
use serde::Deserialize;
use std::collections::HashMap;

/// The largest image a node reads: an info claiming more is refused before any chunk is read.
pub const MAX_IMAGE_BYTES: u64 = 8 << 30;

/// The metadata entry holding an image's signature (hex ed25519 over its sha256), when it was signed.
const SIGNATURE_KEY: &str = "signature";

/// The prefix of the object store's digest.
const DIGEST_PREFIX: &str = "SHA-256=";

/// The subject whose last message is the info of object `name` of `bucket`.
pub fn info_subject(bucket: &str, name: &str) -> String {
    format!("$O.{bucket}.M.{}", BASE64URL.encode(name.as_bytes()))
}

/// The subject holding the chunks, in stream order, of the object version `nuid` of `bucket`.
pub fn chunk_subject(bucket: &str, nuid: &str) -> String {
    format!("$O.{bucket}.C.{nuid}")
}

/// Why an object's info is not one a node reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfoRefused {
    /// The object was deleted from the bucket.
    #[error("it was deleted from the bucket; assign an image that is there")]
    Deleted,
    /// The object is a link to another one; images never are, and a node does not follow links.
    #[error("it is a link to another object, which a node does not follow; put the image itself")]
    Link,
    /// The info claims more bytes than a node reads.
    #[error("its info claims {size} bytes, more than the {MAX_IMAGE_BYTES} a node reads")]
    TooLarge {
        /// The claimed size.
        size: u64,
    },
    /// The info is not what the object store writes.
    #[error("its info is malformed ({0}); put the image again")]
    Malformed(String),
}

/// Why the bytes read are not the object its info describes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentRefused {
    /// The chunks hold more or fewer bytes than the info says.
    #[error("its chunks hold {read} bytes where its info says {size}")]
    Size {
        /// The size in the info.
        size: u64,
        /// The bytes read (when more: as soon as reading went past `size`).
        read: u64,
    },
    /// The bytes do not hash to the info's digest.
    #[error("its bytes do not match the SHA-256 digest in its info")]
    Digest,
}

/// The info of an object a node may read: not deleted, not a link, bounded, with a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The id of this version of the object; its chunks are on [`chunk_subject`] of it.
    pub nuid: String,
    /// Its size in bytes, at most [`MAX_IMAGE_BYTES`].
    pub size: u64,
    /// How many chunks hold it.
    pub chunks: u64,
    /// Its sha256.
    digest: [u8; 32],
    /// Its `signature` metadata entry, if it was signed.
    pub signature: Option<String>,
}

/// The info as the object store writes it; only the fields a reader needs, every one optional.
#[derive(Deserialize)]
struct StoredInfo {
    #[serde(default)]
    nuid: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    chunks: u64,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
    #[serde(default)]
    options: Option<StoredOptions>,
}

#[derive(Deserialize)]
struct StoredOptions {
    #[serde(default)]
    link: Option<serde_json::Value>,
}

impl ImageInfo {
    /// Decodes the info message `payload`, refusing a deleted object, a link, an oversized or inconsistent one.
    pub fn decode(payload: &[u8]) -> Result<Self, InfoRefused> {
        let stored: StoredInfo =
            serde_json::from_slice(payload).map_err(|e| InfoRefused::Malformed(format!("not its JSON: {e}")))?;
        if stored.deleted {
            return Err(InfoRefused::Deleted);
        }
        if stored
            .options
            .is_some_and(|o| o.link.is_some_and(|link| !link.is_null()))
        {
            return Err(InfoRefused::Link);
        }
        if stored.size > MAX_IMAGE_BYTES {
            return Err(InfoRefused::TooLarge { size: stored.size });
        }
        // The object store never writes an empty chunk: every chunk holds at least a byte.
        if stored.chunks > stored.size || (stored.size > 0 && stored.chunks == 0) {
            return Err(InfoRefused::Malformed(format!(
                "{} chunks for {} bytes",
                stored.chunks, stored.size
            )));
        }
        if !is_subject_token(&stored.nuid) {
            return Err(InfoRefused::Malformed(format!(
                "nuid {:?} is not a subject token",
                stored.nuid
            )));
        }
        let digest = stored
            .digest
            .as_deref()
            .ok_or_else(|| InfoRefused::Malformed("no digest".to_owned()))
            .and_then(decode_digest)?;
        Ok(Self {
            nuid: stored.nuid,
            size: stored.size,
            chunks: stored.chunks,
            digest,
            signature: stored.metadata.and_then(|mut m| m.remove(SIGNATURE_KEY)),
        })
    }

    /// Accepts `bytes` only if they are exactly the object: its size, then its digest.
    pub fn check(&self, bytes: &[u8]) -> Result<(), ContentRefused> {
        let read = bytes.len() as u64;
        if read != self.size {
            return Err(ContentRefused::Size { size: self.size, read });
        }
        if node_agent::sha256_hex(bytes) != HEXLOWER.encode(&self.digest) {
            return Err(ContentRefused::Digest);
        }
        Ok(())
    }
}

/// `SHA-256=<base64url>` (padded as the object store writes it, or not) as the 32 digest bytes.
fn decode_digest(text: &str) -> Result<[u8; 32], InfoRefused> {
    let malformed = || InfoRefused::Malformed(format!("digest {text:?} is not {DIGEST_PREFIX}<base64url sha256>"));
    let encoded = text.strip_prefix(DIGEST_PREFIX).ok_or_else(malformed)?;
    let bytes = BASE64URL_NOPAD
        .decode(encoded.trim_end_matches('=').as_bytes())
        .map_err(|_| malformed())?;
    bytes.try_into().map_err(|_| malformed())
}

/// True if `text` is one subject token: not empty, no separator, wildcard or whitespace.
fn is_subject_token(text: &str) -> bool {
    !text.is_empty() && !text.contains(['.', '*', '>']) && !text.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest of `bytes` as the object store writes it.
    fn stored_digest(bytes: &[u8]) -> String {
        let hex = node_agent::sha256_hex(bytes);
        let raw = HEXLOWER.decode(hex.as_bytes()).expect("hex");
        format!("{DIGEST_PREFIX}{}", BASE64URL.encode(&raw))
    }

    /// An info as async-nats 0.51 writes it for `bytes` in 2 chunks, with `extra` fields merged in.
    fn info_json(bytes: &[u8], extra: serde_json::Value) -> Vec<u8> {
        let mut info = serde_json::json!({
            "name": "os-1", "description": null, "metadata": {"signature": "ab12"}, "headers": null,
            "options": {"link": null, "max_chunk_size": 131072}, "bucket": "ef-images",
            "nuid": "sKxYWx2fBcGDkvZoTYkKQa", "size": bytes.len(), "chunks": 2,
            "mtime": "2025-01-01T00:00:00Z", "digest": stored_digest(bytes),
        });
        if let (Some(info), Some(extra)) = (info.as_object_mut(), extra.as_object()) {
            info.extend(extra.clone());
        }
        serde_json::to_vec(&info).expect("json")
    }

    #[test]
    fn names_are_encoded_as_the_object_store_does_padded_base64url() {
        assert_eq!(info_subject("ef-images", "os-1"), "$O.ef-images.M.b3MtMQ==");
        assert_eq!(info_subject("ef-images", "a?>b"), "$O.ef-images.M.YT8-Yg==");
        assert_eq!(chunk_subject("ef-images", "N1"), "$O.ef-images.C.N1");
    }

    #[test]
    fn an_info_is_decoded_with_its_signature_and_accepts_exactly_its_bytes() {
        let bytes = b"the image".to_vec();
        let info = ImageInfo::decode(&info_json(&bytes, serde_json::json!({}))).expect("decoded");

        assert_eq!(info.nuid, "sKxYWx2fBcGDkvZoTYkKQa");
        assert_eq!((info.size, info.chunks), (9, 2));
        assert_eq!(info.signature.as_deref(), Some("ab12"));
        assert_eq!(info.check(&bytes), Ok(()));
        assert_eq!(info.check(b"the imagE"), Err(ContentRefused::Digest));
        assert_eq!(
            info.check(b"the image!"),
            Err(ContentRefused::Size { size: 9, read: 10 })
        );
    }

    #[test]
    fn a_digest_without_padding_and_an_unsigned_image_are_read() {
        let bytes = b"x".to_vec();
        let unpadded = stored_digest(&bytes).trim_end_matches('=').to_owned();
        let extra = serde_json::json!({"digest": unpadded, "metadata": null, "chunks": 1});

        let info = ImageInfo::decode(&info_json(&bytes, extra)).expect("decoded");

        assert_eq!(info.signature, None);
        assert_eq!(info.check(&bytes), Ok(()));
    }

    #[test]
    fn deleted_linked_oversized_and_malformed_infos_are_refused() {
        let bytes = b"the image".to_vec();
        let refused = |extra: serde_json::Value| ImageInfo::decode(&info_json(&bytes, extra)).err();
        let malformed = |refused: Option<InfoRefused>| matches!(refused, Some(InfoRefused::Malformed(_)));

        assert_eq!(
            refused(serde_json::json!({"deleted": true})),
            Some(InfoRefused::Deleted)
        );
        let link = serde_json::json!({"options": {"link": {"bucket": "other", "name": "os-1"}}});
        assert_eq!(refused(link), Some(InfoRefused::Link));
        let huge = MAX_IMAGE_BYTES + 1;
        let oversized = serde_json::json!({"size": huge, "chunks": 70_000});
        assert_eq!(refused(oversized), Some(InfoRefused::TooLarge { size: huge }));
        assert!(malformed(refused(serde_json::json!({"size": -1}))));
        assert!(malformed(refused(serde_json::json!({"size": 1.5}))));
        assert!(malformed(refused(serde_json::json!({"chunks": 10}))));
        assert!(malformed(refused(serde_json::json!({"chunks": 0}))));
        assert!(malformed(refused(serde_json::json!({"nuid": ""}))));
        assert!(malformed(refused(serde_json::json!({"nuid": ">"}))));
        assert!(malformed(refused(serde_json::json!({"nuid": "a.b"}))));
        assert!(malformed(refused(serde_json::json!({"digest": null}))));
        assert!(malformed(refused(serde_json::json!({"digest": "SHA-256=AAAA"}))));
        assert!(malformed(refused(serde_json::json!({"digest": "MD5=AAAA"}))));
        assert!(malformed(refused(serde_json::json!({"metadata": {"signature": 7}}))));
    }

    #[test]
    fn any_payload_decodes_or_is_refused_without_panicking() {
        for payload in [&b""[..], b"null", b"[]", b"{", b"\xff\xfe", b"{\"size\": 1e30}", b"{}"] {
            assert!(ImageInfo::decode(payload).is_err(), "{payload:?}");
        }
    }
}
