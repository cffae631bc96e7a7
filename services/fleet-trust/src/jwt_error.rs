//! Why a NATS JWT could not be signed, or why one read back is not trusted.

use crate::nkey::KeyError;

/// Why a JWT could not be signed, or is refused when read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts holding JSON: not a JWT, or truncated.
    #[error("not a NATS JWT: {0}")]
    Shape(String),
    /// A JWT, but not one signed with an nkey (`{"typ":"JWT","alg":"ed25519-nkey"}`).
    #[error("JWT header {0} is not supported: expected typ JWT and alg ed25519-nkey")]
    Header(String),
    /// Signed by someone else than the expected issuer.
    #[error("JWT is issued by {found}, expected {expected}")]
    WrongIssuer {
        /// The issuer the caller trusts.
        expected: String,
        /// The issuer the JWT names.
        found: String,
    },
    /// The signature does not match the claims: the JWT was altered or forged.
    #[error("JWT signature does not verify against issuer {issuer}: the JWT was altered or forged")]
    BadSignature {
        /// The issuer named by the JWT.
        issuer: String,
    },
    /// Another kind of JWT (e.g. a user JWT where an account JWT belongs).
    #[error("a {found:?} JWT where an {expected:?} JWT was expected")]
    WrongKind {
        /// The kind that was expected.
        expected: &'static str,
        /// The kind the JWT says it is.
        found: String,
    },
    /// Claims of another version than 2, the only one nats-server 2.2+ reads.
    #[error("JWT claims version {0} is not supported: only version 2 is")]
    Version(u64),
    /// The subject or issuer is not a public key of the right role.
    #[error("JWT {field}: {source}")]
    Key {
        /// `sub` or `iss`.
        field: &'static str,
        /// Why the key is not usable.
        source: KeyError,
    },
    /// The signing key failed to sign.
    #[error(transparent)]
    Sign(#[from] KeyError),
    /// The claims failed to serialize (a bug: every claim type here serializes).
    #[error("JWT claims do not serialize: {0}")]
    Encode(String),
}
