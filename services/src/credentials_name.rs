//! Who a `.creds` file says its user is: the user JWT's `name` and role tag, read without verifying the signature
//! (only for what the client shows and its own inbox prefix; the hub verifies every request's identity itself).

use anyhow::Context;
use data_encoding::BASE64URL_NOPAD;
use serde::Deserialize;
use std::path::Path;

/// The tag prefix of an operator's role in the user JWT (`role:viewer`).
const ROLE_TAG: &str = "role:";

/// A user's name and role as its credentials state them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialsName {
    /// The user's name.
    pub name: String,
    /// The role tag, if any.
    pub role: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    name: String,
    #[serde(default)]
    nats: NatsPart,
}

#[derive(Deserialize, Default)]
struct NatsPart {
    #[serde(default)]
    tags: Vec<String>,
}

impl CredentialsName {
    /// Reads the `.creds` file at `path`.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the credentials {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{} is not a NATS .creds file", path.display()))
    }

    /// Parses the text of a `.creds` file.
    pub fn parse(creds: &str) -> anyhow::Result<Self> {
        let jwt = creds
            .lines()
            .skip_while(|line| !line.contains("BEGIN NATS USER JWT"))
            .nth(1)
            .context("no user JWT")?
            .trim();
        let body = jwt.split('.').nth(1).context("the user JWT has no claims")?;
        let bytes = BASE64URL_NOPAD
            .decode(body.trim_end_matches('=').as_bytes())
            .context("the user JWT's claims are not base64url")?;
        let claims: Claims = serde_json::from_slice(&bytes).context("the user JWT's claims are not JSON")?;
        anyhow::ensure!(
            !claims.name.is_empty()
                && claims
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "the user JWT's name {:?} is not a user name",
            claims.name.chars().take(32).collect::<String>()
        );
        let role = claims
            .nats
            .tags
            .iter()
            .find_map(|t| t.strip_prefix(ROLE_TAG))
            .map(str::to_owned);
        Ok(Self {
            name: claims.name,
            role,
        })
    }

    /// The inbox prefix this user receives replies on (`_INBOX_<name>`).
    pub fn inbox_prefix(&self) -> String {
        format!("_INBOX_{}", self.name)
    }

    /// `alice (viewer)`.
    pub fn describe(&self) -> String {
        match &self.role {
            Some(role) => format!("{} ({role})", self.name),
            None => self.name.clone(),
        }
    }
}
