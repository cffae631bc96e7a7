//! Operator users: people and tools with a role ([`OperatorRole`]), issued credentials by the hub and recorded in
//! `trust/users/<name>.json`; viewers and operators live in the OPS account, admins in the HUB account. The
//! built-in admin (`D/admin.creds`, named `admin`) is created with the trust root and recorded like the others.
//!
//! A name is taken while its user is not revoked; revoking puts the user's key into its account's revocations
//! (the returned account JWT must be pushed to take effect) and frees the name.

use events::Token;
use serde::{Deserialize, Serialize};

use crate::account_name::AccountName;
use crate::error::TrustError;
use crate::jwt_decode::decode_verified;
use crate::jwt_encode::now_s;
use crate::operator_roles::OperatorRole;
use crate::record_file::{read_record, read_records, write_record};
use crate::trust_root::TrustRoot;
use crate::user_claims::UserClaims;
use crate::user_creds::UserCreds;

/// The name of the built-in admin, whose credentials are `D/admin.creds`.
pub const BUILTIN_ADMIN: &str = "admin";

/// What the hub knows about an operator user (`trust/users/<name>.json`). Public keys and times only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The user's name, also its JWT's `name`.
    pub name: Token,
    /// Its role.
    pub role: OperatorRole,
    /// The account it lives in (`OPS` or `HUB`).
    pub account: AccountName,
    /// Its user public key (what a revocation names).
    pub public_key: String,
    /// When its credentials were issued, unix seconds.
    pub issued_at_s: u64,
    /// When it was revoked, unix seconds; `None` while it may connect.
    pub revoked_at_s: Option<u64>,
}

/// [`BUILTIN_ADMIN`] as a token.
pub(crate) fn builtin_admin() -> Token {
    Token::new(BUILTIN_ADMIN).unwrap_or_else(|error| unreachable!("{BUILTIN_ADMIN:?} is a valid token: {error}"))
}

impl TrustRoot {
    /// New credentials for operator user `name` with `role`, recorded; hand them out (they are not kept).
    ///
    /// Refuses a name whose user exists and is not revoked.
    pub fn add_user(&self, name: &Token, role: OperatorRole) -> Result<UserCreds, TrustError> {
        if let Some(existing) = self.user_record(name)? {
            if existing.revoked_at_s.is_none() {
                return Err(TrustError::UserExists { name: name.clone() });
            }
        }
        let creds = self.issue_user(&role.account(), name.as_str(), &role.user_claims(name), None)?;
        self.record_user(name, role, &creds)?;
        Ok(creds)
    }

    /// Every operator user ever added (revoked ones included), by name.
    pub fn users(&self) -> Result<Vec<UserRecord>, TrustError> {
        read_records(&self.layout.users_dir())
    }

    /// The record of operator user `name`, if one was added.
    pub fn user_record(&self, name: &Token) -> Result<Option<UserRecord>, TrustError> {
        read_record(&self.layout.user_record(name))
    }

    /// Revokes operator user `name`: returns its account and the account's new JWT, to push to the servers (until
    /// then they still accept the user; afterwards they also close its connections).
    pub fn revoke_user_named(&self, name: &Token) -> Result<(AccountName, String), TrustError> {
        let mut record = self
            .user_record(name)?
            .ok_or_else(|| TrustError::UnknownUser { name: name.clone() })?;
        let jwt = self.revoke_user(&record.account, &record.public_key)?;
        record.revoked_at_s = record.revoked_at_s.or(Some(now_s()));
        write_record(&self.layout.user_record(name), &record)?;
        Ok((record.account, jwt))
    }

    /// Creates the built-in admin (`D/admin.creds` and its record) on the first start. Never re-issued later: a
    /// revoked or deliberately removed admin stays so. A handout without a record (an older layout) gets one.
    pub(crate) fn ensure_builtin_admin(&self) -> Result<(), TrustError> {
        let name = builtin_admin();
        if self.user_record(&name)?.is_some() {
            return Ok(());
        }
        let path = self.layout.admin_creds();
        let creds = if path.exists() {
            UserCreds::read(&path)?
        } else {
            let role = OperatorRole::Admin;
            let creds = self.issue_user(&role.account(), BUILTIN_ADMIN, &role.user_claims(&name), None)?;
            creds.write(&path)?;
            creds
        };
        self.record_user(&name, OperatorRole::Admin, &creds)
    }

    fn record_user(&self, name: &Token, role: OperatorRole, creds: &UserCreds) -> Result<(), TrustError> {
        let account = role.account();
        let issued = decode_verified::<UserClaims>(creds.jwt(), &self.account_key(&account)?.public_key())?;
        let record = UserRecord {
            name: name.clone(),
            role,
            account,
            public_key: issued.subject,
            issued_at_s: issued.issued_at_s,
            revoked_at_s: None,
        };
        write_record(&self.layout.user_record(name), &record)
    }
}
