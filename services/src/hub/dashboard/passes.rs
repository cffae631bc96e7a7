//! Sign-in links and sessions of the dashboard: a [`Pass`] names a fleet user (by name and the public key of the
//! credential it signed in with) and when it ends, signed with this hub's dashboard key (HMAC-SHA256, kept owner-only
//! in the hub's data dir, so sessions outlive a restart). A pass carries no role: each request looks the user up in
//! the trust root, so a revoked or re-issued credential loses its sessions at once.
//!
//! `edgefleet dashboard url` asks the API (as the caller's own NATS identity) for a [`PassKind::Link`], valid for
//! [`LINK_TTL`] and good once; opening it trades it for a [`PassKind::Session`] cookie valid for [`SESSION_TTL`].

use data_encoding::BASE64URL_NOPAD;
use events::Token;
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// How long a sign-in link may be opened.
pub const LINK_TTL: Duration = Duration::from_secs(5 * 60);
/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);
/// The key file's name in the hub's data dir.
const KEY_FILE: &str = "dashboard.key";

/// What a pass is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PassKind {
    /// A sign-in link, traded once for a session.
    Link,
    /// A browser session (the cookie).
    Session,
}

/// A signed statement: this user, with this credential, until then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    /// The user's name.
    pub user: Token,
    /// The public key of the credential the user had when the pass was made.
    pub public_key: String,
    /// What it is for.
    pub kind: PassKind,
    /// When it ends, unix seconds.
    pub expires_unix_s: u64,
}

/// Why a pass is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PassError {
    /// Not two base64url parts joined by a dot, or not a pass inside.
    #[error("not a dashboard pass")]
    Malformed,
    /// Not signed by this hub's key.
    #[error("the pass was not signed by this hub")]
    BadSignature,
    /// Its time is over.
    #[error("the pass expired")]
    Expired,
    /// A link where a session is needed, or the other way round.
    #[error("a {found:?} pass where a {wanted:?} pass is needed")]
    WrongKind {
        /// What was needed.
        wanted: PassKind,
        /// What came.
        found: PassKind,
    },
    /// A sign-in link opened a second time.
    #[error("this sign-in link was already used: ask for a new one with `edgefleet dashboard url`")]
    Used,
}

/// The hub's dashboard key, and the links already traded.
pub struct Passes {
    key: hmac::Key,
    used_links: Mutex<BTreeMap<String, u64>>,
}

impl std::fmt::Debug for Passes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passes").finish_non_exhaustive()
    }
}

impl Passes {
    /// Opens the key in `data_dir`, creating it (random, owner-only) on the first start.
    pub fn open_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(KEY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
                    .map_err(|_| anyhow::anyhow!("no randomness for the dashboard key"))?;
                let text = BASE64URL_NOPAD.encode(&secret);
                crate::owner_only_file::create_owner_only(&path, &text)?;
                text
            }
            Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        };
        let secret = BASE64URL_NOPAD
            .decode(text.trim().as_bytes())
            .map_err(|e| anyhow::anyhow!("{} is not a dashboard key: {e}", path.display()))?;
        anyhow::ensure!(
            secret.len() >= 32,
            "{} is too short to be a dashboard key",
            path.display()
        );
        Ok(Self::with_secret(&secret))
    }

    /// Passes signed with `secret` (tests).
    pub fn with_secret(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            used_links: Mutex::new(BTreeMap::new()),
        }
    }

    /// `pass`, signed: `<payload>.<signature>`, both base64url.
    pub fn sign(&self, pass: &Pass) -> String {
        let payload = BASE64URL_NOPAD.encode(&serde_json::to_vec(pass).unwrap_or_default());
        let tag = hmac::sign(&self.key, payload.as_bytes());
        format!("{payload}.{}", BASE64URL_NOPAD.encode(tag.as_ref()))
    }

    /// The pass in `text` if this hub signed it, it is of `kind`, and it has not expired at `now_unix_s`.
    pub fn verify(&self, text: &str, kind: PassKind, now_unix_s: u64) -> Result<Pass, PassError> {
        let (payload, tag) = text.split_once('.').ok_or(PassError::Malformed)?;
        let tag = BASE64URL_NOPAD
            .decode(tag.as_bytes())
            .map_err(|_| PassError::Malformed)?;
        hmac::verify(&self.key, payload.as_bytes(), &tag).map_err(|_| PassError::BadSignature)?;
        let bytes = BASE64URL_NOPAD
            .decode(payload.as_bytes())
            .map_err(|_| PassError::Malformed)?;
        let pass: Pass = serde_json::from_slice(&bytes).map_err(|_| PassError::Malformed)?;
        if pass.kind != kind {
            return Err(PassError::WrongKind {
                wanted: kind,
                found: pass.kind,
            });
        }
        if pass.expires_unix_s <= now_unix_s {
            return Err(PassError::Expired);
        }
        Ok(pass)
    }

    /// Trades the sign-in link `text` for a session pass: once per link.
    pub fn trade_link(&self, text: &str, now_unix_s: u64) -> Result<Pass, PassError> {
        let link = self.verify(text, PassKind::Link, now_unix_s)?;
        let mut used = self.used_links.lock().unwrap_or_else(|p| p.into_inner());
        used.retain(|_, expires| *expires > now_unix_s);
        if used.insert(text.to_owned(), link.expires_unix_s).is_some() {
            return Err(PassError::Used);
        }
        Ok(Pass {
            kind: PassKind::Session,
            expires_unix_s: now_unix_s + SESSION_TTL.as_secs(),
            ..link
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(expires_unix_s: u64) -> Pass {
        Pass {
            user: Token::new("ada").expect("token"),
            public_key: "UABC".into(),
            kind: PassKind::Link,
            expires_unix_s,
        }
    }

    #[test]
    fn a_link_is_traded_once_for_a_session_and_never_again() {
        let passes = Passes::with_secret(&[7; 32]);
        let text = passes.sign(&link(1_000));
        let session = passes.trade_link(&text, 900).expect("the first trade");
        assert_eq!(
            (session.kind, session.expires_unix_s),
            (PassKind::Session, 900 + SESSION_TTL.as_secs())
        );
        assert_eq!(passes.trade_link(&text, 901), Err(PassError::Used));
        let cookie = passes.sign(&session);
        assert_eq!(passes.verify(&cookie, PassKind::Session, 950), Ok(session));
    }

    #[test]
    fn an_expired_forged_or_mangled_pass_is_refused() {
        let passes = Passes::with_secret(&[7; 32]);
        let text = passes.sign(&link(1_000));
        assert_eq!(passes.trade_link(&text, 1_000), Err(PassError::Expired));
        let other = Passes::with_secret(&[8; 32]).sign(&link(1_000));
        assert_eq!(passes.verify(&other, PassKind::Link, 10), Err(PassError::BadSignature));
        for mangled in ["", ".", "abc", "abc.def", "%%%.%%%"] {
            assert!(passes.verify(mangled, PassKind::Link, 10).is_err(), "{mangled:?}");
        }
        assert_eq!(
            passes.verify(&text, PassKind::Session, 10),
            Err(PassError::WrongKind {
                wanted: PassKind::Session,
                found: PassKind::Link
            })
        );
    }
}
