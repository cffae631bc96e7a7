//! Encoding and signing NATS JWTs exactly as nats-server 2.x reads them: header
//! `{"typ":"JWT","alg":"ed25519-nkey"}`, claims with `jti` (base32 of the SHA-256 of the claims), `iat`, `iss`,
//! `sub`, `name`, optional `exp`, and a `nats` section carrying the kind's claims with `type` and `version: 2`;
//! every part base64url without padding; the ed25519 signature of `header.claims` by the issuer's nkey.
//!
//! Pure apart from reading the clock for `iat`: no files, no network.

use std::time::{SystemTime, UNIX_EPOCH};

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::jwt_error::JwtError;
use crate::nkey::{check_public_key, KeyRole, NatsKey};

/// The JOSE header of every NATS JWT.
pub(crate) const HEADER_JSON: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;
/// The only claims version nats-server 2.2 and later reads.
pub(crate) const CLAIMS_VERSION: u64 = 2;

/// The `nats` section of one kind of JWT: who may issue it, what its subject is, and its `type`.
pub trait NatsClaims: Serialize + DeserializeOwned {
    /// The `nats.type` value (`operator`, `account`, `user`): the subject's role, as every NATS JWT kind is named
    /// after what it describes.
    const KIND: &'static str = <Self::Subject as KeyRole>::NAME;
    /// The role whose key signs this kind.
    type Issuer: KeyRole;
    /// The role of the subject's public key.
    type Subject: KeyRole;
}

/// The JWT claims: the registered fields and the `nats` section.
#[derive(Serialize, Deserialize)]
pub(crate) struct Envelope<N> {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) jti: String,
    pub(crate) iat: u64,
    pub(crate) iss: String,
    pub(crate) name: String,
    pub(crate) sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exp: Option<u64>,
    pub(crate) nats: Section<N>,
}

/// The `nats` section: a kind's claims plus `type` and `version`.
#[derive(Serialize, Deserialize)]
pub(crate) struct Section<N> {
    #[serde(flatten)]
    pub(crate) claims: N,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) version: u64,
}

/// Signs `claims` about `subject_public_key` (named `name`) with `issuer`, issued now and never expiring.
///
/// An operator JWT is self-signed: its subject is the operator's own public key.
pub fn sign_jwt<N: NatsClaims>(
    issuer: &NatsKey<N::Issuer>,
    subject_public_key: &str,
    name: &str,
    claims: &N,
) -> Result<String, JwtError> {
    encode(issuer, subject_public_key, name, claims, now_s(), None)
}

/// Like [`sign_jwt`], but the JWT is refused by nats-server from `expires_at_s` (unix seconds) on.
pub fn sign_expiring_jwt<N: NatsClaims>(
    issuer: &NatsKey<N::Issuer>,
    subject_public_key: &str,
    name: &str,
    claims: &N,
    expires_at_s: u64,
) -> Result<String, JwtError> {
    encode(issuer, subject_public_key, name, claims, now_s(), Some(expires_at_s))
}

/// The JWT of `claims` issued at `issued_at_s`.
pub(crate) fn encode<N: NatsClaims>(
    issuer: &NatsKey<N::Issuer>,
    subject_public_key: &str,
    name: &str,
    claims: &N,
    issued_at_s: u64,
    expires_at_s: Option<u64>,
) -> Result<String, JwtError> {
    check_public_key::<N::Subject>(subject_public_key).map_err(|source| JwtError::Key { field: "sub", source })?;
    let mut envelope = Envelope {
        jti: String::new(),
        iat: issued_at_s,
        iss: issuer.public_key(),
        name: name.to_owned(),
        sub: subject_public_key.to_owned(),
        exp: expires_at_s,
        nats: Section {
            claims,
            kind: N::KIND.to_owned(),
            version: CLAIMS_VERSION,
        },
    };
    // The id is the hash of the claims without it, as the Go jwt library and nsc compute it.
    let unidentified = to_json(&envelope)?;
    envelope.jti = BASE32_NOPAD.encode(&Sha256::digest(&unidentified));
    let signing_input = format!(
        "{}.{}",
        BASE64URL_NOPAD.encode(HEADER_JSON.as_bytes()),
        BASE64URL_NOPAD.encode(&to_json(&envelope)?)
    );
    let signature = issuer.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", BASE64URL_NOPAD.encode(&signature)))
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, JwtError> {
    serde_json::to_vec(value).map_err(|error| JwtError::Encode(error.to_string()))
}

/// Seconds since the unix epoch, by the local clock.
pub(crate) fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
