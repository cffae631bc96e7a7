//! Roles of the people (and tools) that operate the fleet, as subject permissions of users in the hub account.
//!
//! | role | may publish | may subscribe |
//! |---|---|---|
//! | viewer | `ef.api.v1.*.list`, `ef.api.v1.*.get`, `$SRV.>` | `_INBOX.>` |
//! | operator | `ef.api.v1.>`, `$SRV.>` | `_INBOX.>` |
//! | admin | `>` (everything in the hub account, incl. `$JS.API.>`) | `>` |
//!
//! A viewer reads (every `list` and `get` endpoint, service discovery); an operator also changes the fleet through
//! the API; an admin may do anything in the hub account, JetStream included. Requests outside a role are dropped by
//! the server, which tells the client with a `Permissions Violation` error. The table is [`ROLE_GRANTS`]; the
//! server enforces it, the hub API records the authenticated user in history.

use std::fmt;
use std::str::FromStr;

use crate::user_claims::{ConnectionType, UserClaims};
use crate::user_permissions::UserPermissions;

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorRole {
    /// Reads the fleet: list and get endpoints, service discovery.
    Viewer,
    /// Reads and changes the fleet through the API.
    Operator,
    /// Everything in the hub account, JetStream included.
    Admin,
}

/// The subjects one role may publish and subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleGrant {
    /// The role.
    pub role: OperatorRole,
    /// Subjects it may publish (requests).
    pub publish: &'static [&'static str],
    /// Subjects it may subscribe to (replies).
    pub subscribe: &'static [&'static str],
}

/// The permission table (see the module docs).
pub const ROLE_GRANTS: [RoleGrant; 3] = [
    RoleGrant {
        role: OperatorRole::Viewer,
        publish: &["ef.api.v1.*.list", "ef.api.v1.*.get", "$SRV.>"],
        subscribe: &["_INBOX.>"],
    },
    RoleGrant {
        role: OperatorRole::Operator,
        publish: &["ef.api.v1.>", "$SRV.>"],
        subscribe: &["_INBOX.>"],
    },
    RoleGrant {
        role: OperatorRole::Admin,
        publish: &[">"],
        subscribe: &[">"],
    },
];

impl OperatorRole {
    /// Every role, least to most powerful.
    pub const ALL: [OperatorRole; 3] = [OperatorRole::Viewer, OperatorRole::Operator, OperatorRole::Admin];

    /// This role's row of [`ROLE_GRANTS`].
    pub fn grant(self) -> &'static RoleGrant {
        let row = ROLE_GRANTS.iter().find(|grant| grant.role == self);
        debug_assert!(row.is_some(), "every role has a row in ROLE_GRANTS");
        row.unwrap_or(&ROLE_GRANTS[0])
    }

    /// The claims of a user with this role (standard and WebSocket client connections only).
    pub fn user_claims(self) -> UserClaims {
        let grant = self.grant();
        UserClaims::new(
            UserPermissions::allow_only(grant.publish, grant.subscribe),
            &[ConnectionType::Standard, ConnectionType::Websocket],
        )
    }

    /// The role's name (`viewer`, `operator`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Viewer => "viewer",
            OperatorRole::Operator => "operator",
            OperatorRole::Admin => "admin",
        }
    }
}

impl fmt::Display for OperatorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a role: use viewer, operator or admin")]
pub struct UnknownRole(pub String);

impl FromStr for OperatorRole {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OperatorRole::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| UnknownRole(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_exactly_one_row() {
        for role in OperatorRole::ALL {
            assert_eq!(
                ROLE_GRANTS.iter().filter(|grant| grant.role == role).count(),
                1,
                "{role}"
            );
        }
    }

    #[test]
    fn api_grants_are_under_the_hub_api_prefix() {
        let api_subjects = ROLE_GRANTS
            .iter()
            .flat_map(|grant| grant.publish.iter())
            .filter(|subject| subject.starts_with("ef."));
        for subject in api_subjects {
            assert!(
                subject.starts_with(&format!("{}.", events::subject::API_PREFIX)),
                "{subject} is outside the hub API"
            );
        }
    }

    #[test]
    fn roles_parse_from_their_names() {
        for role in OperatorRole::ALL {
            assert_eq!(role.as_str().parse::<OperatorRole>(), Ok(role));
        }
        assert!("root".parse::<OperatorRole>().is_err());
    }

    #[test]
    fn a_viewer_may_only_publish_reads() {
        let claims = OperatorRole::Viewer.user_claims();

        assert_eq!(
            claims.permissions.publish.allow,
            ["ef.api.v1.*.list", "ef.api.v1.*.get", "$SRV.>"]
        );
        assert_eq!(claims.permissions.subscribe.allow, ["_INBOX.>"]);
    }
}
