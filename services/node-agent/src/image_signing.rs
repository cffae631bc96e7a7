//! Signing OS images (ed25519 over the image's sha256 digest) — the counterpart of `image_verify`.

use ed25519_dalek::{Signer, SigningKey};

/// Why a key or digest could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageSigningError {
    /// The key file does not hold 32 bytes of hex.
    #[error("signing key must be 64 hex characters (a 32-byte ed25519 seed)")]
    MalformedKey,
    /// The digest is not 64 hex characters.
    #[error("digest must be 64 hex characters")]
    MalformedDigest,
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The public key (hex) of a signing seed (hex).
pub fn public_key_hex(seed_hex: &str) -> Result<String, ImageSigningError> {
    let seed = hex32(seed_hex).ok_or(ImageSigningError::MalformedKey)?;
    Ok(hex(SigningKey::from_bytes(&seed).verifying_key().as_bytes()))
}

/// Signs the 32-byte sha256 digest given as hex; returns the 64-byte signature as hex.
pub fn sign_digest_hex(seed_hex: &str, digest_hex: &str) -> Result<String, ImageSigningError> {
    let seed = hex32(seed_hex).ok_or(ImageSigningError::MalformedKey)?;
    let digest = hex32(digest_hex).ok_or(ImageSigningError::MalformedDigest)?;
    Ok(hex(&SigningKey::from_bytes(&seed).sign(&digest).to_bytes()))
}

/// Parses a 32-byte public key from hex.
pub fn parse_public_key(text: &str) -> Option<[u8; 32]> {
    hex32(text)
}

/// Parses a 64-byte signature from hex.
pub fn parse_signature(text: &str) -> Option<[u8; 64]> {
    let text = text.trim();
    let a = hex32(text.get(..64)?)?;
    let b = hex32(text.get(64..)?)?;
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&a);
    out[32..].copy_from_slice(&b);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_verify::{sha256_hex, verify_image};

    #[test]
    fn a_signed_digest_verifies_with_the_public_key_only() {
        let seed = "11".repeat(32);
        let image = b"os image bytes";
        let signature = sign_digest_hex(&seed, &sha256_hex(image)).expect("sign");
        let key = parse_public_key(&public_key_hex(&seed).expect("key")).expect("parse key");
        let sig = parse_signature(&signature).expect("parse signature");
        assert!(verify_image(image, &sha256_hex(image), Some((&key, &sig))).is_ok());
        let other = parse_public_key(&public_key_hex(&"22".repeat(32)).expect("key")).expect("parse key");
        assert!(verify_image(image, &sha256_hex(image), Some((&other, &sig))).is_err());
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(public_key_hex("xyz"), Err(ImageSigningError::MalformedKey));
        assert!(parse_signature("00").is_none());
    }
}
