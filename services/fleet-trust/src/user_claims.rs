//! The user JWT's claims: permissions, connection types and limits of one identity inside an account.

use serde::{Deserialize, Serialize};

use crate::account_limits::UNLIMITED;
use crate::jwt_encode::NatsClaims;
use crate::nkey::{Account, User};
use crate::user_permissions::UserPermissions;

/// How a user may connect; nats-server refuses the user on any other kind of connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectionType {
    /// A client on the client port.
    Standard,
    /// A client over WebSocket.
    Websocket,
    /// A leaf node server (a site's nats-server dialing the hub).
    Leafnode,
    /// A leaf node server over WebSocket.
    LeafnodeWs,
    /// An MQTT client.
    Mqtt,
    /// An MQTT client over WebSocket.
    MqttWs,
    /// A client inside the server process.
    InProcess,
}

/// What a user JWT says (`nats.type = "user"`). The expiry, if any, is the JWT's `exp`, set when signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaims {
    /// Publish/subscribe rules and response permission.
    #[serde(flatten)]
    pub permissions: UserPermissions,
    /// Most subscriptions (`-1` unlimited).
    pub subs: i64,
    /// Most bytes in flight (`-1` unlimited).
    pub data: i64,
    /// Largest payload (`-1` unlimited).
    pub payload: i64,
    /// The only connection types allowed; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_connection_types: Vec<ConnectionType>,
    /// The account's public key when the JWT is signed by one of the account's signing keys (unused here: this
    /// crate signs users with the account key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_account: Option<String>,
    /// Free-form tags (nats-server lower-cases them and shows them in `Nats-Request-Info`); operators carry
    /// `role:<role>` here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl NatsClaims for UserClaims {
    type Issuer = Account;
    type Subject = User;
}

impl UserClaims {
    /// A user with `permissions`, no limits, allowed on `connection_types` (empty: any).
    pub fn new(permissions: UserPermissions, connection_types: &[ConnectionType]) -> Self {
        Self {
            permissions,
            subs: UNLIMITED,
            data: UNLIMITED,
            payload: UNLIMITED,
            allowed_connection_types: connection_types.to_vec(),
            issuer_account: None,
            tags: Vec::new(),
        }
    }
}
