//! Requests and views of the fleet's access: sites' bundles (`sites.add|rotate|revoke`) and operators' credentials
//! (`users.add|list|revoke`). Only admins call these; what they return includes secrets (a site's leaf credential
//! and key, a user's `.creds`), written by the CLI into owner-only files.

use super::as_text;
use events::Token;
use fleet_trust::OperatorRole;
use serde::{Deserialize, Serialize};

/// `sites.add` and `sites.rotate`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteIssueRequest {
    /// Site id.
    pub id: Token,
    /// Names and addresses the site's server is reached by, besides localhost (its TLS certificate covers them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_names: Vec<String>,
}

/// A site's bundle: what its server needs to join the fleet. Secrets included.
#[derive(Clone, Serialize, Deserialize)]
pub struct SiteBundleView {
    /// Site id.
    pub site: String,
    /// The hub's leafnode URL.
    pub hub_leaf_url: String,
    /// The site's leaf credential (`.creds` text).
    pub leaf_creds: String,
    /// The CA the site checks the hub against (PEM).
    pub hub_ca_pem: String,
    /// The CA that issued the site server's certificate (PEM); the site's agents trust it.
    pub site_ca_pem: String,
    /// The site server's certificate (PEM).
    pub site_cert_pem: String,
    /// Its private key (PEM).
    pub site_key_pem: String,
    /// The site's local reader's public nkey (`U…`): who may read log lines at the site while the hub is away.
    #[serde(default)]
    pub local_reader_public_key: Option<String>,
    /// Its seed, for the operators.
    #[serde(default)]
    pub local_reader_seed: Option<String>,
}

impl std::fmt::Debug for SiteBundleView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteBundleView")
            .field("site", &self.site)
            .field("hub_leaf_url", &self.hub_leaf_url)
            .finish_non_exhaustive()
    }
}

/// `users.add`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserAdd {
    /// User name (what history records as `by`).
    pub name: Token,
    /// `viewer`, `operator` or `admin`.
    #[serde(with = "as_text")]
    pub role: OperatorRole,
}

/// Names a user.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    /// User name.
    pub name: Token,
}

/// An operator's credential as the hub recorded it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserView {
    /// User name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Its nkey public key.
    pub public_key: String,
    /// When it was issued (unix seconds).
    pub issued_at_s: u64,
    /// When it was revoked (unix seconds), if it was.
    pub revoked_at_s: Option<u64>,
}

impl From<&fleet_trust::UserRecord> for UserView {
    fn from(record: &fleet_trust::UserRecord) -> Self {
        Self {
            name: record.name.to_string(),
            role: record.role.to_string(),
            public_key: record.public_key.clone(),
            issued_at_s: record.issued_at_s,
            revoked_at_s: record.revoked_at_s,
        }
    }
}

/// A new user's credential. Secret.
#[derive(Clone, Serialize, Deserialize)]
pub struct UserCredsView {
    /// The user.
    pub user: UserView,
    /// The `.creds` file's text.
    pub creds: String,
}

impl std::fmt::Debug for UserCredsView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredsView")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}
