//! Who is calling the hub API. Requests reach the API account through imports with `share: true` (from HUB and
//! OPS), so nats-server stamps each one with a `Nats-Request-Info` header holding the requester's account and
//! user JWT, replacing any header the client sent. [`TrustRoot::identify_caller`] trusts that JWT only if the
//! account's key signed it and it names an operator: an admin in HUB (never the hub process itself), a viewer or
//! operator in OPS, with the role from its `role:` tag.
//!
//! Reads no file and talks to no server: the revocation of a user is the server's to enforce (it closes a revoked
//! user's connections once the account JWT is pushed).

use events::Token;
use serde::Deserialize;

use crate::jwt_decode::decode_verified;
use crate::jwt_encode::now_s;
use crate::jwt_error::JwtError;
use crate::operator_roles::OperatorRole;
use crate::trust_root::TrustRoot;
use crate::user_claims::UserClaims;

/// The header nats-server sets on requests that cross a shared service import.
pub const REQUEST_INFO_HEADER: &str = "Nats-Request-Info";

/// The parts of a `Nats-Request-Info` header that identify the requester.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RequestInfo {
    /// The requester's account (its public key, in operator mode).
    #[serde(default)]
    pub acc: String,
    /// The requester's user public key.
    #[serde(default)]
    pub user: String,
    /// The requester's user JWT.
    #[serde(default)]
    pub jwt: String,
    /// The key that signed the user JWT (the account's key here).
    #[serde(default)]
    pub issuer_key: String,
    /// The user JWT's name.
    #[serde(default)]
    pub name_tag: String,
}

impl RequestInfo {
    /// Parses the header's value.
    pub fn parse(header_value: &str) -> Result<Self, CallerError> {
        serde_json::from_str(header_value).map_err(|error| CallerError::MalformedRequestInfo(error.to_string()))
    }
}

/// An authenticated operator calling the hub API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user's name (its JWT's `name`), what history records.
    pub name: Token,
    /// Its role.
    pub role: OperatorRole,
    /// Its user public key.
    pub public_key: String,
}

/// Why a request's identity is not an operator's. Refuse the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    /// The header is not the JSON nats-server writes.
    #[error("{REQUEST_INFO_HEADER} is not valid: {0}")]
    MalformedRequestInfo(String),
    /// The request comes from an account whose users are not operators (a site, the API, the system account).
    #[error("account {account} holds no operators: only HUB (admins) and OPS (viewers, operators) call the API")]
    NotAnOperatorAccount {
        /// The account's public key.
        account: String,
    },
    /// The user JWT was not signed by that account's key, or is not a user JWT.
    #[error("the caller's user JWT is not trusted: {0}")]
    UntrustedJwt(JwtError),
    /// The user JWT expired.
    #[error("the caller's user JWT expired at {expired_at_s}")]
    Expired {
        /// Its `exp`, unix seconds.
        expired_at_s: u64,
    },
    /// The hub process's own user, which acts for the hub, not for an operator.
    #[error("user {public_key} is the hub process, not an operator")]
    HubProcess {
        /// Its public key.
        public_key: String,
    },
    /// The user carries no single known `role:` tag.
    #[error("user {public_key} carries no role tag")]
    NoRole {
        /// Its public key.
        public_key: String,
    },
    /// The role's users live in another account (e.g. an admin tag in OPS).
    #[error("a {role} does not belong in account {account}")]
    RoleInWrongAccount {
        /// The tagged role.
        role: OperatorRole,
        /// The account's public key.
        account: String,
    },
    /// The JWT's name is not a user name.
    #[error("the caller's name {0:?} is not a user name")]
    BadName(String),
}

impl TrustRoot {
    /// The operator behind a request whose `Nats-Request-Info` header is `header_value`.
    pub fn identify_request(&self, header_value: &str) -> Result<Caller, CallerError> {
        let info = RequestInfo::parse(header_value)?;
        self.identify_caller(&info.acc, &info.jwt)
    }

    /// The operator behind a request, from its `Nats-Request-Info` (`acc` and `jwt`, see [`RequestInfo`]).
    pub fn identify_caller(&self, account_public_key: &str, user_jwt: &str) -> Result<Caller, CallerError> {
        let role_account = if account_public_key == self.hub_account_public_key() {
            OperatorRole::Admin.account()
        } else if account_public_key == self.ops_account_public_key() {
            OperatorRole::Viewer.account()
        } else {
            return Err(CallerError::NotAnOperatorAccount {
                account: account_public_key.to_owned(),
            });
        };
        let user = decode_verified::<UserClaims>(user_jwt, account_public_key).map_err(CallerError::UntrustedJwt)?;
        if let Some(expired_at_s) = user.expires_at_s.filter(|&at| at <= now_s()) {
            return Err(CallerError::Expired { expired_at_s });
        }
        if user.subject == self.hub_process_user {
            return Err(CallerError::HubProcess {
                public_key: user.subject,
            });
        }
        let role = OperatorRole::from_tags(&user.claims.tags).ok_or_else(|| CallerError::NoRole {
            public_key: user.subject.clone(),
        })?;
        if role.account() != role_account {
            return Err(CallerError::RoleInWrongAccount {
                role,
                account: account_public_key.to_owned(),
            });
        }
        let name = Token::new(user.name.as_str()).map_err(|_| CallerError::BadName(user.name.clone()))?;
        Ok(Caller {
            name,
            role,
            public_key: user.subject,
        })
    }
}
