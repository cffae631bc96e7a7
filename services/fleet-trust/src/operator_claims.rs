//! The operator JWT's claims: the fleet's root of trust, self-signed by the operator key.

use serde::{Deserialize, Serialize};

use crate::jwt_encode::NatsClaims;
use crate::nkey::Operator;

/// What an operator JWT says (`nats.type = "operator"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorClaims {
    /// The system account's public key: the account whose users may use `$SYS` (e.g. push account JWTs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_account: Option<String>,
}

impl NatsClaims for OperatorClaims {
    type Issuer = Operator;
    type Subject = Operator;
}
