//! The account JWT's claims: limits, exports, imports and user revocations.
//!
//! Revoking a user is a change of its account's JWT: `revocations` maps a user's public key (or `*` for every
//! user) to a unix time, and nats-server refuses every user JWT of that key issued at or before that time. The
//! changed account JWT takes effect when it is pushed to the servers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::account_limits::AccountLimits;
use crate::cross_account::{Export, Import};
use crate::jwt_encode::NatsClaims;
use crate::nkey::{Account, Operator};
use crate::user_permissions::UserPermissions;

/// The `revocations` key that revokes every user of the account.
pub const ALL_USERS: &str = "*";

/// What an account JWT says (`nats.type = "account"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountClaims {
    /// Connection, data and JetStream limits.
    pub limits: AccountLimits,
    /// What this account offers other accounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exports: Vec<Export>,
    /// What this account takes from other accounts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<Import>,
    /// User public key (or [`ALL_USERS`]) → unix time: user JWTs issued at or before it are refused.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revocations: BTreeMap<String, u64>,
    /// Permissions of users whose JWT sets none (empty: everything allowed).
    #[serde(default)]
    pub default_permissions: UserPermissions,
}

impl NatsClaims for AccountClaims {
    type Issuer = Operator;
    type Subject = Account;
}

impl AccountClaims {
    /// An account with `limits` and nothing shared.
    pub fn new(limits: AccountLimits) -> Self {
        Self {
            limits,
            exports: Vec::new(),
            imports: Vec::new(),
            revocations: BTreeMap::new(),
            default_permissions: UserPermissions::default(),
        }
    }

    /// Revokes every JWT of user `user_public_key` issued at or before `at_s` (unix seconds).
    ///
    /// A later revocation of the same user replaces an earlier one; an earlier one never shortens a later one.
    pub fn revoke_user(&mut self, user_public_key: &str, at_s: u64) {
        let at = self.revocations.entry(user_public_key.to_owned()).or_insert(at_s);
        *at = (*at).max(at_s);
    }

    /// True if a JWT of user `user_public_key` issued at `issued_at_s` is revoked by these claims.
    pub fn is_revoked(&self, user_public_key: &str, issued_at_s: u64) -> bool {
        [user_public_key, ALL_USERS]
            .iter()
            .filter_map(|key| self.revocations.get(*key))
            .any(|&at| issued_at_s <= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_user_stays_revoked_for_jwts_issued_up_to_the_revocation() {
        let mut claims = AccountClaims::new(AccountLimits::unlimited_with_jetstream());

        claims.revoke_user("UALICE", 100);
        claims.revoke_user("UALICE", 50);

        assert!(claims.is_revoked("UALICE", 100));
        assert!(claims.is_revoked("UALICE", 99));
        assert!(
            !claims.is_revoked("UALICE", 101),
            "a JWT issued after the revocation is valid"
        );
        assert!(!claims.is_revoked("UBOB", 1));
    }

    #[test]
    fn revoking_all_users_covers_every_key() {
        let mut claims = AccountClaims::new(AccountLimits::unlimited_with_jetstream());

        claims.revoke_user(ALL_USERS, 100);

        assert!(claims.is_revoked("UANYONE", 100));
        assert!(!claims.is_revoked("UANYONE", 101));
    }
}
