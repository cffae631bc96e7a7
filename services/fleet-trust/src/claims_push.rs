//! Pushing an account JWT to running servers: a request on `$SYS.REQ.CLAIMS.UPDATE` by a system-account user.
//! A server with the full resolver stores it in its resolver directory and applies it at once (new imports,
//! revocations); its answer says whether it did.
//!
//! The only code in this crate that talks to the network.

use serde::Deserialize;

/// The subject servers take account JWT updates on (system account only).
pub const CLAIMS_UPDATE_SUBJECT: &str = "$SYS.REQ.CLAIMS.UPDATE";

/// A server's acceptance of an account JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsUpdated {
    /// The account whose JWT was updated.
    pub account: String,
    /// The server's message (`jwt updated`).
    pub message: String,
}

/// Why an account JWT push did not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsPushError {
    /// No server answered: the client is not a system-account user (use `system.creds`), no server runs in operator
    /// mode with a full resolver, or the request timed out.
    #[error(
        "no server answered {CLAIMS_UPDATE_SUBJECT}: {reason}; connect with the system account's credentials to a \
         server in operator mode with a full resolver"
    )]
    NoAnswer {
        /// What the client said.
        reason: String,
    },
    /// A server refused the JWT (e.g. not signed by its operator, or not an account JWT).
    #[error("the server refused the JWT of account {account:?} (code {code}): {description}")]
    Refused {
        /// The account, as the server read it.
        account: String,
        /// The server's code.
        code: i64,
        /// The server's reason.
        description: String,
    },
    /// The answer is neither an acceptance nor a refusal.
    #[error("unexpected answer to {CLAIMS_UPDATE_SUBJECT}: {0}")]
    UnexpectedAnswer(String),
}

/// Sends `account_jwt` to `$SYS.REQ.CLAIMS.UPDATE` over `client` (a system-account user) and returns the first
/// server's answer.
pub async fn push_account_jwt(
    client: &async_nats::Client,
    account_jwt: &str,
) -> Result<ClaimsUpdated, ClaimsPushError> {
    let reply = client
        .request(CLAIMS_UPDATE_SUBJECT, account_jwt.trim().to_owned().into())
        .await
        .map_err(|error| ClaimsPushError::NoAnswer {
            reason: error.to_string(),
        })?;
    read_answer(&reply.payload)
}

/// Reads a server's answer: `{"data":{"account","code","message"}}` or `{"error":{"account","code","description"}}`.
fn read_answer(payload: &[u8]) -> Result<ClaimsUpdated, ClaimsPushError> {
    #[derive(Deserialize)]
    struct Answer {
        data: Option<Accepted>,
        error: Option<Refused>,
    }
    #[derive(Deserialize)]
    struct Accepted {
        #[serde(default)]
        account: String,
        #[serde(default)]
        message: String,
    }
    #[derive(Deserialize)]
    struct Refused {
        #[serde(default)]
        account: String,
        #[serde(default)]
        code: i64,
        #[serde(default)]
        description: String,
    }
    let unexpected = || ClaimsPushError::UnexpectedAnswer(String::from_utf8_lossy(payload).into_owned());
    let answer: Answer = serde_json::from_slice(payload).map_err(|_| unexpected())?;
    match (answer.data, answer.error) {
        (_, Some(refused)) => Err(ClaimsPushError::Refused {
            account: refused.account,
            code: refused.code,
            description: refused.description,
        }),
        (Some(accepted), None) => Ok(ClaimsUpdated {
            account: accepted.account,
            message: accepted.message,
        }),
        (None, None) => Err(unexpected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_update_names_the_account() {
        let answer = br#"{"server":{"name":"hub"},"data":{"account":"AABC","code":200,"message":"jwt updated"}}"#;

        assert_eq!(
            read_answer(answer),
            Ok(ClaimsUpdated {
                account: "AABC".to_owned(),
                message: "jwt updated".to_owned()
            })
        );
    }

    #[test]
    fn a_refusal_carries_the_servers_reason() {
        let answer = br#"{"error":{"account":"AABC","code":500,"description":"not trusted"}}"#;

        assert!(matches!(
            read_answer(answer),
            Err(ClaimsPushError::Refused { code: 500, ref description, .. }) if description == "not trusted"
        ));
    }

    #[test]
    fn anything_else_is_unexpected() {
        assert!(matches!(read_answer(b"+OK"), Err(ClaimsPushError::UnexpectedAnswer(_))));
        assert!(matches!(read_answer(b"{}"), Err(ClaimsPushError::UnexpectedAnswer(_))));
    }
}
