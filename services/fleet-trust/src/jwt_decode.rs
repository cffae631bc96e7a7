//! Reading a NATS JWT back: split, decode, and trust it only if the expected issuer signed exactly these claims and
//! it is the expected kind.
//!
//! Used to load what this crate wrote (stored account JWTs, `.creds` files) and by tests. It never trusts a JWT's
//! own `iss` on its face: the caller names the issuer it trusts.

use data_encoding::BASE64URL_NOPAD;
use serde::Deserialize;

use crate::jwt_encode::{Envelope, NatsClaims, CLAIMS_VERSION};
use crate::jwt_error::JwtError;
use crate::nkey::{check_public_key, verify_signature};

/// A JWT whose signature verified against the expected issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedJwt<N> {
    /// `jti`: the claims' hash, unique per issued JWT.
    pub id: String,
    /// `iss`: the public key that signed it.
    pub issuer: String,
    /// `sub`: the public key the claims are about.
    pub subject: String,
    /// `name`.
    pub name: String,
    /// `iat`, unix seconds.
    pub issued_at_s: u64,
    /// `exp`, unix seconds, if it expires.
    pub expires_at_s: Option<u64>,
    /// The kind's claims (the `nats` section).
    pub claims: N,
}

/// Decodes `jwt` and verifies that `expected_issuer` signed it and that it is a JWT of kind `N`.
pub fn decode_verified<N: NatsClaims>(jwt: &str, expected_issuer: &str) -> Result<VerifiedJwt<N>, JwtError> {
    let jwt = jwt.trim();
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Shape("expected three dot-separated parts".to_owned()));
    };
    check_header(&decode_part("header", header)?)?;
    let envelope: Envelope<serde_json::Value> = serde_json::from_slice(&decode_part("claims", payload)?)
        .map_err(|error| JwtError::Shape(format!("claims are not NATS JWT claims: {error}")))?;
    if envelope.iss != expected_issuer {
        return Err(JwtError::WrongIssuer {
            expected: expected_issuer.to_owned(),
            found: envelope.iss,
        });
    }
    check_public_key::<N::Issuer>(&envelope.iss).map_err(|source| JwtError::Key { field: "iss", source })?;
    let signature = decode_part("signature", signature)?;
    let signing_input = &jwt[..header.len() + 1 + payload.len()];
    verify_signature(&envelope.iss, signing_input.as_bytes(), &signature).map_err(|_| JwtError::BadSignature {
        issuer: envelope.iss.clone(),
    })?;
    check_public_key::<N::Subject>(&envelope.sub).map_err(|source| JwtError::Key { field: "sub", source })?;
    if envelope.nats.kind != N::KIND {
        return Err(JwtError::WrongKind {
            expected: N::KIND,
            found: envelope.nats.kind,
        });
    }
    if envelope.nats.version != CLAIMS_VERSION {
        return Err(JwtError::Version(envelope.nats.version));
    }
    let claims = N::deserialize(&envelope.nats.claims)
        .map_err(|error| JwtError::Shape(format!("{} claims: {error}", N::KIND)))?;
    Ok(VerifiedJwt {
        id: envelope.jti,
        issuer: envelope.iss,
        subject: envelope.sub,
        name: envelope.name,
        issued_at_s: envelope.iat,
        expires_at_s: envelope.exp,
        claims,
    })
}

fn decode_part(what: &str, part: &str) -> Result<Vec<u8>, JwtError> {
    BASE64URL_NOPAD
        .decode(part.as_bytes())
        .map_err(|error| JwtError::Shape(format!("{what} is not base64url: {error}")))
}

fn check_header(header: &[u8]) -> Result<(), JwtError> {
    #[derive(Deserialize)]
    struct Header {
        typ: String,
        alg: String,
    }
    let shown = || String::from_utf8_lossy(header).into_owned();
    let parsed: Header = serde_json::from_slice(header).map_err(|_| JwtError::Header(shown()))?;
    // nats-server accepts "JWT" in any case; "ed25519-nkey" is the v2 algorithm name.
    if parsed.typ.eq_ignore_ascii_case("jwt") && parsed.alg == "ed25519-nkey" {
        Ok(())
    } else {
        Err(JwtError::Header(shown()))
    }
}
