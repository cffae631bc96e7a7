//! NATS nkeys (ed25519 key pairs with a role prefix) for the three roles of decentralized auth: the operator signs
//! accounts, an account signs its users, a user proves its identity when it connects.
//!
//! The role is part of the type ([`OperatorKey`], [`AccountKey`], [`UserKey`]), so an account JWT can only be
//! signed by an operator key and a user JWT only by an account key. A key's `Debug` shows its role and public key,
//! never its seed.

use std::fmt;
use std::marker::PhantomData;

use nkeys::{KeyPair, KeyPairType};

/// Why a seed or public key is not a usable nkey of the expected role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The text is not an nkey seed or public key at all (bad prefix, length or checksum).
    #[error("not a valid {expected} nkey: {reason}")]
    Malformed {
        /// The role that was expected.
        expected: &'static str,
        /// What nkeys said about it (never contains the seed).
        reason: String,
    },
    /// A valid nkey, but of another role (e.g. a user seed where an account seed belongs).
    #[error("expected an nkey of role {expected}, found one of role {found}")]
    WrongRole {
        /// The role that was expected.
        expected: &'static str,
        /// The role the key has.
        found: String,
    },
    /// Signing failed (only possible for a key without a seed, which this crate never holds).
    #[error("cannot sign with a {role} key: {reason}")]
    Sign {
        /// The role of the key.
        role: &'static str,
        /// What nkeys said.
        reason: String,
    },
}

mod sealed {
    /// Only the three roles below are roles.
    pub trait Sealed {}
}

/// A role in NATS decentralized auth; implemented by [`Operator`], [`Account`] and [`User`] only.
pub trait KeyRole: sealed::Sealed {
    /// The role's name in messages and JWTs (`operator`, `account`, `user`).
    const NAME: &'static str;
    /// The nkeys type of the role.
    fn key_type() -> KeyPairType;
}

/// The operator role: the fleet's root of trust, signs account JWTs. Public keys start with `O`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator;
/// The account role: an isolated subject space, signs user JWTs. Public keys start with `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account;
/// The user role: one connection's identity. Public keys start with `U`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User;

impl sealed::Sealed for Operator {}
impl sealed::Sealed for Account {}
impl sealed::Sealed for User {}

impl KeyRole for Operator {
    const NAME: &'static str = "operator";
    fn key_type() -> KeyPairType {
        KeyPairType::Operator
    }
}

impl KeyRole for Account {
    const NAME: &'static str = "account";
    fn key_type() -> KeyPairType {
        KeyPairType::Account
    }
}

impl KeyRole for User {
    const NAME: &'static str = "user";
    fn key_type() -> KeyPairType {
        KeyPairType::User
    }
}

/// An nkey pair (with its seed) of role `R`.
pub struct NatsKey<R> {
    pair: KeyPair,
    role: PhantomData<R>,
}

/// The operator's key pair.
pub type OperatorKey = NatsKey<Operator>;
/// An account's key pair.
pub type AccountKey = NatsKey<Account>;
/// A user's key pair.
pub type UserKey = NatsKey<User>;

impl<R: KeyRole> NatsKey<R> {
    /// A fresh random key pair of this role.
    pub fn generate() -> Self {
        Self {
            pair: KeyPair::new(R::key_type()),
            role: PhantomData,
        }
    }

    /// The key pair whose seed is `seed` (`SO…`, `SA…` or `SU…`); refused if it is another role's seed.
    pub fn from_seed(seed: &str) -> Result<Self, KeyError> {
        Ok(Self {
            pair: of_role::<R>(KeyPair::from_seed(seed.trim()))?,
            role: PhantomData,
        })
    }

    /// The public key (`O…`, `A…` or `U…`): the identity others name this key by.
    pub fn public_key(&self) -> String {
        self.pair.public_key()
    }

    /// The seed: the secret that makes this key. Write it only to `0600` files; never log it.
    pub fn seed(&self) -> String {
        // Every NatsKey is built from a seed (generate or from_seed), so the seed is always there.
        self.pair
            .seed()
            .unwrap_or_else(|error| unreachable!("a {} key built by this crate has a seed: {error}", R::NAME))
    }

    /// An ed25519 signature of `input`.
    pub(crate) fn sign(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.pair.sign(input).map_err(|error| KeyError::Sign {
            role: R::NAME,
            reason: error.to_string(),
        })
    }
}

impl<R: KeyRole> fmt::Debug for NatsKey<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Key({})", R::NAME, self.public_key())
    }
}

/// Checks that `public_key` is a valid public nkey of role `R` (e.g. an account JWT's subject).
pub fn check_public_key<R: KeyRole>(public_key: &str) -> Result<(), KeyError> {
    of_role::<R>(KeyPair::from_public_key(public_key)).map(drop)
}

/// The key pair nkeys `parsed` from a seed or public key, if it parsed and is of role `R`.
fn of_role<R: KeyRole>(parsed: Result<KeyPair, nkeys::error::Error>) -> Result<KeyPair, KeyError> {
    let pair = parsed.map_err(|error| KeyError::Malformed {
        expected: R::NAME,
        reason: error.to_string(),
    })?;
    if pair.key_pair_type() != R::key_type() {
        return Err(KeyError::WrongRole {
            expected: R::NAME,
            found: format!("{:?}", pair.key_pair_type()).to_lowercase(),
        });
    }
    Ok(pair)
}

/// Verifies that `signature` over `input` was made by the key whose public key is `public_key`.
pub(crate) fn verify_signature(public_key: &str, input: &[u8], signature: &[u8]) -> Result<(), String> {
    let pair = KeyPair::from_public_key(public_key).map_err(|error| error.to_string())?;
    pair.verify(input, signature).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_comes_back_from_its_seed() {
        let account = AccountKey::generate();

        let again = AccountKey::from_seed(&account.seed()).unwrap();

        assert_eq!(again.public_key(), account.public_key());
        assert!(account.public_key().starts_with('A'));
        assert!(account.seed().starts_with("SA"));
    }

    #[test]
    fn a_seed_of_another_role_is_refused() {
        let user = UserKey::generate();

        let error = AccountKey::from_seed(&user.seed()).unwrap_err();

        assert!(
            matches!(
                error,
                KeyError::WrongRole {
                    expected: "account",
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn garbage_is_not_a_seed() {
        assert!(matches!(
            OperatorKey::from_seed("SOnope"),
            Err(KeyError::Malformed { .. })
        ));
    }

    #[test]
    fn debug_shows_the_public_key_and_never_the_seed() {
        let key = OperatorKey::generate();

        let shown = format!("{key:?}");

        assert!(shown.contains(&key.public_key()), "{shown}");
        assert!(!shown.contains(&key.seed()), "{shown}");
    }

    #[test]
    fn public_keys_are_checked_for_their_role() {
        let account = AccountKey::generate().public_key();

        assert!(check_public_key::<Account>(&account).is_ok());
        assert!(matches!(
            check_public_key::<User>(&account),
            Err(KeyError::WrongRole { .. })
        ));
        assert!(matches!(
            check_public_key::<User>("Ubad"),
            Err(KeyError::Malformed { .. })
        ));
    }
}
