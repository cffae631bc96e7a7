//! Checks an OS image before any of it reaches a disk: its sha256 against the announced digest and, when the node
//! has a release key configured, an ed25519 signature over that digest.
//!
//! Pure: bytes in, verdict out. It never writes anything and never decides what to do with a refused image.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Length of a sha256 digest written as hex.
const SHA256_HEX_LEN: usize = 64;

/// Why an image was refused; each variant names the check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageVerifyError {
    /// The announced digest is not a sha256 in lower-case hex.
    #[error(
        "expected sha256 {expected:?} is not {SHA256_HEX_LEN} lower-case hex digits; fix the release announcement \
         (e.g. `sha256sum image | cut -c1-64`)"
    )]
    MalformedDigest {
        /// The digest as given.
        expected: String,
    },
    /// The image bytes do not hash to the announced digest.
    #[error("sha256 mismatch: expected {expected}, got {actual}; the image is corrupt or not the one announced, fetch it again")]
    Sha256Mismatch {
        /// The announced digest.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// The configured public key is not a valid ed25519 point.
    #[error("the configured public key is not a valid ed25519 key ({reason}); fix the node's release-key setting")]
    MalformedPublicKey {
        /// What the key parser said.
        reason: String,
    },
    /// The signature is not the configured key's signature over the digest.
    #[error(
        "signature does not verify with the configured key: the image (sha256 {digest}) was not signed by the \
         release key this node trusts; refusing it"
    )]
    BadSignature {
        /// The digest the signature was checked over, hex.
        digest: String,
    },
}

/// The sha256 of `bytes` as 64 lower-case hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Refuses `bytes` unless their sha256 equals `expected_sha256_hex` (lower-case hex) and, when `signature` is
/// `Some((public_key, signature))`, the signature is a valid ed25519 signature by that key over the 32 raw bytes
/// of the digest.
pub fn verify_image(
    bytes: &[u8],
    expected_sha256_hex: &str,
    signature: Option<(&[u8; 32], &[u8; 64])>,
) -> Result<(), ImageVerifyError> {
    check_digest_format(expected_sha256_hex)?;
    let digest = Sha256::digest(bytes);
    let actual = to_hex(&digest);
    if actual != expected_sha256_hex {
        return Err(ImageVerifyError::Sha256Mismatch {
            expected: expected_sha256_hex.to_string(),
            actual,
        });
    }
    let Some((public_key, signature)) = signature else {
        return Ok(());
    };
    let key = VerifyingKey::from_bytes(public_key)
        .map_err(|e| ImageVerifyError::MalformedPublicKey { reason: e.to_string() })?;
    // verify_strict also rejects weak keys and non-canonical signatures, which plain verify accepts.
    key.verify_strict(&digest, &Signature::from_bytes(signature))
        .map_err(|_| ImageVerifyError::BadSignature { digest: actual })
}

/// Refuses anything but 64 lower-case hex digits, so a digest from elsewhere is checked before it is compared.
pub fn check_digest_format(sha256_hex: &str) -> Result<(), ImageVerifyError> {
    let well_formed = sha256_hex.len() == SHA256_HEX_LEN
        && sha256_hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if well_formed {
        Ok(())
    } else {
        Err(ImageVerifyError::MalformedDigest {
            expected: sha256_hex.to_string(),
        })
    }
}

fn to_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    /// sha256("abc") from FIPS 180-2.
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digest_must_match_in_lower_case_hex() {
        assert_eq!(sha256_hex(b"abc"), ABC_SHA256);
        assert_eq!(verify_image(b"abc", ABC_SHA256, None), Ok(()));
        let err = verify_image(b"abd", ABC_SHA256, None).expect_err("mismatch");
        assert!(
            err.to_string()
                .starts_with(&format!("sha256 mismatch: expected {ABC_SHA256}, got ")),
            "{err}"
        );
        for malformed in [
            ABC_SHA256.to_uppercase(),
            ABC_SHA256[..63].to_string(),
            format!("{ABC_SHA256}0"),
        ] {
            let err = verify_image(b"abc", &malformed, None).expect_err("malformed");
            assert!(
                matches!(err, ImageVerifyError::MalformedDigest { .. }),
                "{malformed}: {err}"
            );
        }
    }

    #[test]
    fn signature_over_the_digest_must_verify_with_the_configured_key() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let digest = Sha256::digest(b"abc");
        let signature = key.sign(&digest).to_bytes();
        let public = key.verifying_key().to_bytes();
        assert_eq!(verify_image(b"abc", ABC_SHA256, Some((&public, &signature))), Ok(()));

        let other = SigningKey::from_bytes(&[8; 32]).verifying_key().to_bytes();
        let err = verify_image(b"abc", ABC_SHA256, Some((&other, &signature))).expect_err("wrong key");
        assert!(
            err.to_string()
                .starts_with("signature does not verify with the configured key"),
            "{err}"
        );
        // A signature over the image bytes instead of the digest is not accepted.
        let over_bytes = key.sign(b"abc").to_bytes();
        let err = verify_image(b"abc", ABC_SHA256, Some((&public, &over_bytes))).expect_err("wrong message");
        assert!(matches!(err, ImageVerifyError::BadSignature { .. }), "{err}");
    }
}
