//! [`AccountName`]: the name of an account in the trust directory (its files) and in its JWT's `name`.

use std::fmt;

use events::Token;

/// Longest account name accepted.
const ACCOUNT_NAME_MAX_LEN: usize = 64;

/// Why a string is not an account name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an account name: use 1 to {ACCOUNT_NAME_MAX_LEN} of A-Z, a-z, 0-9, '_' and '-'")]
pub struct AccountNameError(pub String);

/// The name of an account: `SYS`, `HUB`, `API`, `OPS`, `SITE_<site>` or another name of `[A-Za-z0-9_-]`.
///
/// Also a file name in the trust directory, hence the narrow alphabet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountName(String);

impl AccountName {
    /// The system account (nats-server's `$SYS` traffic; its users push account JWTs).
    pub fn system() -> Self {
        Self("SYS".to_owned())
    }

    /// The hub account: `EF_INTENT`, the image bucket, the hub process and the admins live here.
    pub fn hub() -> Self {
        Self("HUB".to_owned())
    }

    /// The API account: the hub process's API service answers `ef.api.v1.>` here, for the HUB and OPS accounts.
    pub fn api() -> Self {
        Self("API".to_owned())
    }

    /// The operators' account: viewers and operators, who may only call the hub API.
    pub fn ops() -> Self {
        Self("OPS".to_owned())
    }

    /// The trust account: a hub cluster's shared trust material (bucket `ef-trust`), reachable only by the hub
    /// processes (`trust/trust.creds`).
    pub fn trust() -> Self {
        Self("TRUST".to_owned())
    }

    /// The account of `site`: its leaf connection and the hub's copies of its streams live here.
    pub fn site(site: &Token) -> Self {
        Self(format!("SITE_{site}"))
    }

    /// `name`, if it is a valid account name.
    pub fn new(name: &str) -> Result<Self, AccountNameError> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if name.is_empty() || name.len() > ACCOUNT_NAME_MAX_LEN || !name.chars().all(valid_char) {
            return Err(AccountNameError(name.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountName {
    type Error = AccountNameError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::new(&name)
    }
}

impl From<AccountName> for String {
    fn from(name: AccountName) -> Self {
        name.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_accounts_are_named_after_the_site() {
        let site = Token::new("berlin-1").unwrap();

        assert_eq!(AccountName::site(&site).as_str(), "SITE_berlin-1");
    }

    #[test]
    fn names_that_could_escape_the_directory_are_refused() {
        assert!(AccountName::new("../HUB").is_err());
        assert!(AccountName::new("").is_err());
        assert!(AccountName::new("a b").is_err());
        assert!(AccountName::new("OPS_team-2").is_ok());
    }
}
