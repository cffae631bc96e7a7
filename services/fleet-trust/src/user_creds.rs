//! `.creds` files: a user's JWT and seed in the standard NATS text format (as `nsc` writes it), read by
//! async-nats `ConnectOptions::credentials_file`, the `nats` CLI and a leaf remote's `credentials`.
//!
//! A `.creds` file is a secret (it holds the seed): written `0600`, and its `Debug` never shows the seed.

use std::fmt;
use std::path::Path;

use crate::atomic_file::{write_atomically, FileAccess};
use crate::error::{io_error, TrustError};
use crate::jwt_encode::{sign_expiring_jwt, sign_jwt};
use crate::jwt_error::JwtError;
use crate::nkey::{AccountKey, KeyError, UserKey};
use crate::user_claims::UserClaims;

const JWT_BEGIN: &str = "-----BEGIN NATS USER JWT-----";
const JWT_END: &str = "------END NATS USER JWT------";
const SEED_BEGIN: &str = "-----BEGIN USER NKEY SEED-----";
const SEED_END: &str = "------END USER NKEY SEED------";

/// Why text is not a usable `.creds` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredsError {
    /// A `-----BEGIN …-----` / `------END …------` block is missing or empty.
    #[error("not a NATS .creds file: no {0} block")]
    MissingBlock(&'static str),
    /// The seed block holds no user seed.
    #[error("the .creds seed is not a user seed: {0}")]
    Seed(#[from] KeyError),
}

/// A user's credentials: its JWT and its key.
pub struct UserCreds {
    jwt: String,
    key: UserKey,
}

impl UserCreds {
    /// Makes a new user key and signs its JWT with `claims` (named `name`) by `account`; expires at
    /// `expires_at_s` (unix seconds) if given.
    pub fn issue(
        account: &AccountKey,
        name: &str,
        claims: &UserClaims,
        expires_at_s: Option<u64>,
    ) -> Result<Self, JwtError> {
        let key = UserKey::generate();
        let subject = key.public_key();
        let jwt = match expires_at_s {
            Some(at) => sign_expiring_jwt(account, &subject, name, claims, at)?,
            None => sign_jwt(account, &subject, name, claims)?,
        };
        Ok(Self { jwt, key })
    }

    /// Credentials from an already signed `jwt` and the user's `key`.
    pub fn from_parts(jwt: String, key: UserKey) -> Self {
        Self { jwt, key }
    }

    /// The user JWT.
    pub fn jwt(&self) -> &str {
        &self.jwt
    }

    /// The user's public key: the key to revoke in its account's JWT.
    pub fn user_public_key(&self) -> String {
        self.key.public_key()
    }

    /// The `.creds` text. It holds the seed: treat it as a secret.
    pub fn to_creds_text(&self) -> String {
        format!(
            "{JWT_BEGIN}\n{jwt}\n{JWT_END}\n\n\
             ************************* IMPORTANT *************************\n\
             NKEY Seed printed below can be used to sign and prove identity.\n\
             NKEYs are sensitive and should be treated as secrets.\n\n\
             {SEED_BEGIN}\n{seed}\n{SEED_END}\n\n\
             *************************************************************\n",
            jwt = self.jwt,
            seed = self.key.seed(),
        )
    }

    /// Parses `.creds` text (the JWT is not verified here: see [`crate::decode_verified`]).
    pub fn parse(text: &str) -> Result<Self, CredsError> {
        let jwt = block(text, JWT_BEGIN, JWT_END).ok_or(CredsError::MissingBlock("NATS USER JWT"))?;
        let seed = block(text, SEED_BEGIN, SEED_END).ok_or(CredsError::MissingBlock("USER NKEY SEED"))?;
        Ok(Self {
            jwt: jwt.to_owned(),
            key: UserKey::from_seed(seed)?,
        })
    }

    /// Writes the `.creds` file at `path`, owner-only (`0600`).
    pub fn write(&self, path: &Path) -> Result<(), TrustError> {
        write_atomically(path, self.to_creds_text().as_bytes(), FileAccess::OwnerOnly).map_err(io_error("write", path))
    }

    /// Reads the `.creds` file at `path`.
    pub fn read(path: &Path) -> Result<Self, TrustError> {
        let text = std::fs::read_to_string(path).map_err(io_error("read", path))?;
        Self::parse(&text).map_err(|source| TrustError::Creds {
            path: path.to_owned(),
            source,
        })
    }
}

impl fmt::Debug for UserCreds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCreds")
            .field("user", &self.user_public_key())
            .finish_non_exhaustive()
    }
}

/// The trimmed, non-empty text between the lines `begin` and `end`.
fn block<'a>(text: &'a str, begin: &str, end: &str) -> Option<&'a str> {
    let start = text.find(begin)? + begin.len();
    let length = text[start..].find(end)?;
    Some(text[start..start + length].trim()).filter(|inner| !inner.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user_permissions::UserPermissions;

    fn creds() -> UserCreds {
        let account = AccountKey::generate();
        UserCreds::issue(
            &account,
            "alice",
            &UserClaims::new(UserPermissions::default(), &[]),
            None,
        )
        .unwrap()
    }

    #[test]
    fn creds_text_parses_back_to_the_same_user() {
        let creds = creds();

        let again = UserCreds::parse(&creds.to_creds_text()).unwrap();

        assert_eq!(again.jwt(), creds.jwt());
        assert_eq!(again.user_public_key(), creds.user_public_key());
    }

    #[test]
    fn creds_text_has_the_standard_markers_in_order() {
        let text = creds().to_creds_text();

        let positions: Vec<usize> = [JWT_BEGIN, JWT_END, SEED_BEGIN, SEED_END]
            .iter()
            .map(|marker| text.find(marker).unwrap())
            .collect();

        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{positions:?}");
    }

    #[test]
    fn text_without_a_seed_is_not_creds() {
        let text = format!("{JWT_BEGIN}\nabc\n{JWT_END}\n");

        assert_eq!(
            UserCreds::parse(&text).unwrap_err(),
            CredsError::MissingBlock("USER NKEY SEED")
        );
    }

    #[test]
    fn debug_never_shows_the_seed() {
        let creds = creds();

        let shown = format!("{creds:?}");

        assert!(!shown.contains(&creds.key.seed()), "{shown}");
        assert!(shown.contains(&creds.user_public_key()), "{shown}");
    }
}
