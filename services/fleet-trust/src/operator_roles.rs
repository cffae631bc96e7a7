//! Roles of the people (and tools) that operate the fleet, as subject permissions of their users.
//!
//! | role | account | may publish | may not publish | may subscribe |
//! |---|---|---|---|---|
//! | viewer | `OPS` | `ef.api.v1.*.list`, `ef.api.v1.*.get` | | `_INBOX_<name>.>` |
//! | operator | `OPS` | `ef.api.v1.>` | `ef.api.v1.users.>`, `ef.api.v1.sites.add`, `ef.api.v1.sites.rotate`, `ef.api.v1.sites.revoke` | `_INBOX_<name>.>` |
//! | admin | `HUB` | everything in the HUB account, JetStream included | | everything |
//!
//! A viewer reads (every `list` and `get` endpoint); an operator also changes the fleet through the API, except
//! users and site credentials; an admin may do anything in the HUB account. The OPS account holds nothing but the
//! imported API, so viewers and operators can reach nothing else. Each OPS user receives replies only on its own
//! inbox prefix ([`user_inbox_prefix`]), so operators never see each other's replies. Requests outside a role are
//! dropped by the server, which tells the client with a `Permissions Violation` error. The user JWT carries the
//! role as the tag `role:<role>`, which the API reads from `Nats-Request-Info` ([`crate::TrustRoot::identify_caller`]).

use std::fmt;
use std::str::FromStr;

use events::Token;

use crate::account_name::AccountName;
use crate::user_claims::{ConnectionType, UserClaims};
use crate::user_permissions::{SubjectRules, UserPermissions};

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorRole {
    /// Reads the fleet: list and get endpoints.
    Viewer,
    /// Reads and changes the fleet through the API, except users and site credentials.
    Operator,
    /// Everything in the HUB account, JetStream included.
    Admin,
}

/// What a role's users may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeGrant {
    /// Only the user's own inbox prefix, `_INBOX_<name>.>`.
    OwnInbox,
    /// Everything in the account.
    Everything,
}

/// The subjects one role may publish and subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleGrant {
    /// The role.
    pub role: OperatorRole,
    /// Subjects it may publish (requests); empty: everything.
    pub publish: &'static [&'static str],
    /// Subjects it may not publish even if `publish` allows them.
    pub publish_deny: &'static [&'static str],
    /// What it may subscribe to (replies).
    pub subscribe: SubscribeGrant,
}

/// The permission table (see the module docs).
pub const ROLE_GRANTS: [RoleGrant; 3] = [
    RoleGrant {
        role: OperatorRole::Viewer,
        publish: &["ef.api.v1.*.list", "ef.api.v1.*.get"],
        publish_deny: &[],
        subscribe: SubscribeGrant::OwnInbox,
    },
    RoleGrant {
        role: OperatorRole::Operator,
        publish: &["ef.api.v1.>"],
        publish_deny: &[
            "ef.api.v1.users.>",
            "ef.api.v1.sites.add",
            "ef.api.v1.sites.rotate",
            "ef.api.v1.sites.revoke",
        ],
        subscribe: SubscribeGrant::OwnInbox,
    },
    RoleGrant {
        role: OperatorRole::Admin,
        publish: &[],
        publish_deny: &[],
        subscribe: SubscribeGrant::Everything,
    },
];

/// The JWT tag that carries a role: `role:<role>`.
const ROLE_TAG_PREFIX: &str = "role:";

/// The inbox prefix of operator user `name` (`_INBOX_<name>`): set it as the client's inbox prefix
/// (`custom_inbox_prefix` in async-nats); the user may subscribe to nothing else.
pub fn user_inbox_prefix(name: &Token) -> String {
    format!("_INBOX_{name}")
}

impl OperatorRole {
    /// Every role, least to most powerful.
    pub const ALL: [OperatorRole; 3] = [OperatorRole::Viewer, OperatorRole::Operator, OperatorRole::Admin];

    /// This role's row of [`ROLE_GRANTS`].
    pub fn grant(self) -> &'static RoleGrant {
        let row = ROLE_GRANTS.iter().find(|grant| grant.role == self);
        debug_assert!(row.is_some(), "every role has a row in ROLE_GRANTS");
        row.unwrap_or(&ROLE_GRANTS[0])
    }

    /// The account this role's users live in: `HUB` for admins, `OPS` for the others.
    pub fn account(self) -> AccountName {
        match self {
            OperatorRole::Admin => AccountName::hub(),
            OperatorRole::Viewer | OperatorRole::Operator => AccountName::ops(),
        }
    }

    /// The claims of user `name` with this role: the grant, tagged `role:<role>`, standard and WebSocket client
    /// connections only.
    pub fn user_claims(self, name: &Token) -> UserClaims {
        let grant = self.grant();
        let subscribe = match grant.subscribe {
            SubscribeGrant::OwnInbox => SubjectRules::allow_only(&[format!("{}.>", user_inbox_prefix(name))]),
            SubscribeGrant::Everything => SubjectRules::default(),
        };
        let permissions = UserPermissions {
            publish: SubjectRules {
                allow: grant.publish.iter().map(|subject| (*subject).to_owned()).collect(),
                deny: grant.publish_deny.iter().map(|subject| (*subject).to_owned()).collect(),
            },
            subscribe,
            resp: None,
        };
        let mut claims = UserClaims::new(permissions, &[ConnectionType::Standard, ConnectionType::Websocket]);
        claims.tags = vec![self.tag()];
        claims
    }

    /// The JWT tag carrying this role (`role:viewer`).
    pub fn tag(self) -> String {
        format!("{ROLE_TAG_PREFIX}{self}")
    }

    /// The role named by the one `role:<role>` tag among `tags`; `None` if there is none, an unknown one or more
    /// than one.
    pub fn from_tags<S: AsRef<str>>(tags: &[S]) -> Option<Self> {
        let mut roles = tags.iter().filter_map(|tag| tag.as_ref().strip_prefix(ROLE_TAG_PREFIX));
        let role = roles.next()?.parse().ok()?;
        roles.next().is_none().then_some(role)
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

impl serde::Serialize for OperatorRole {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for OperatorRole {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> Token {
        Token::new("vera").unwrap()
    }

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
            .flat_map(|grant| grant.publish.iter().chain(grant.publish_deny));
        for subject in api_subjects {
            assert!(
                subject.starts_with(&format!("{}.", events::subject::API_PREFIX)),
                "{subject} is outside the hub API"
            );
        }
    }

    #[test]
    fn roles_parse_from_their_names_and_tags() {
        for role in OperatorRole::ALL {
            assert_eq!(role.as_str().parse::<OperatorRole>(), Ok(role));
            assert_eq!(OperatorRole::from_tags(&[role.tag()]), Some(role));
        }
        assert!("root".parse::<OperatorRole>().is_err());
        assert_eq!(OperatorRole::from_tags(&["role:root"]), None);
        assert_eq!(OperatorRole::from_tags(&["role:viewer", "role:admin"]), None);
        assert_eq!(OperatorRole::from_tags::<&str>(&[]), None);
    }

    #[test]
    fn a_viewer_may_only_publish_reads_and_hear_its_own_inbox() {
        let claims = OperatorRole::Viewer.user_claims(&name());

        assert_eq!(
            claims.permissions.publish.allow,
            ["ef.api.v1.*.list", "ef.api.v1.*.get"]
        );
        assert_eq!(claims.permissions.subscribe.allow, ["_INBOX_vera.>"]);
        assert_eq!(claims.tags, ["role:viewer"]);
        assert_eq!(OperatorRole::Viewer.account(), AccountName::ops());
    }

    #[test]
    fn an_operator_may_not_manage_users_or_site_credentials() {
        let claims = OperatorRole::Operator.user_claims(&name());

        assert_eq!(claims.permissions.publish.allow, ["ef.api.v1.>"]);
        assert!(claims
            .permissions
            .publish
            .deny
            .contains(&"ef.api.v1.users.>".to_owned()));
        assert!(claims
            .permissions
            .publish
            .deny
            .contains(&"ef.api.v1.sites.rotate".to_owned()));
    }

    #[test]
    fn an_admin_is_a_full_user_of_the_hub_account() {
        let claims = OperatorRole::Admin.user_claims(&Token::new("admin").unwrap());

        assert_eq!(claims.permissions, UserPermissions::default());
        assert_eq!(OperatorRole::Admin.account(), AccountName::hub());
        assert_eq!(claims.tags, ["role:admin"]);
    }
}
