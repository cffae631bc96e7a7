//! The frame both telemetry batches use: two magic bytes, a little-endian format version, then a snappy block of
//! postcard. One place checks the header, bounds the decompressed size and refuses trailing bytes; the batch types
//! only name their magic, version and body.

use serde::de::DeserializeOwned;
use serde::Serialize;

const HEADER_LEN: usize = 4;

/// Why bytes are not a frame of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer bytes than a header.
    Truncated(usize),
    /// Another magic.
    BadMagic([u8; 2]),
    /// Another format version.
    UnknownVersion(u16),
    /// The body does not decompress or decode, or cannot be encoded.
    Body(String),
}

/// `body` framed under `magic` and `version`.
pub fn encode<T: Serialize>(magic: [u8; 2], version: u16, body: &T) -> Result<Vec<u8>, FrameError> {
    let body = postcard::to_stdvec(body).map_err(|e| FrameError::Body(e.to_string()))?;
    let compressed = snap::raw::Encoder::new()
        .compress_vec(&body)
        .map_err(|e| FrameError::Body(e.to_string()))?;
    let mut out = Vec::with_capacity(HEADER_LEN + compressed.len());
    out.extend_from_slice(&magic);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&compressed);
    Ok(out)
}

/// The body of a frame under `magic` and `version`, refusing one that would decompress beyond `max_decoded` bytes
/// or leaves bytes over. Never panics.
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    magic: [u8; 2],
    version: u16,
    max_decoded: usize,
) -> Result<T, FrameError> {
    if bytes.len() < HEADER_LEN {
        return Err(FrameError::Truncated(bytes.len()));
    }
    let found_magic = [bytes[0], bytes[1]];
    if found_magic != magic {
        return Err(FrameError::BadMagic(found_magic));
    }
    let found = u16::from_le_bytes([bytes[2], bytes[3]]);
    if found != version {
        return Err(FrameError::UnknownVersion(found));
    }
    let compressed = &bytes[HEADER_LEN..];
    let size = snap::raw::decompress_len(compressed).map_err(|e| FrameError::Body(e.to_string()))?;
    if size > max_decoded {
        return Err(FrameError::Body(format!(
            "{size} bytes decompressed, beyond {max_decoded}"
        )));
    }
    let body = snap::raw::Decoder::new()
        .decompress_vec(compressed)
        .map_err(|e| FrameError::Body(e.to_string()))?;
    let (value, rest) = postcard::take_from_bytes::<T>(&body).map_err(|e| FrameError::Body(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Body(format!("{} bytes after the batch", rest.len())));
    }
    Ok(value)
}
