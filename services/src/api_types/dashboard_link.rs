//! `dashboard_links.get`: a short-lived sign-in link to the hub's dashboard for the caller's own identity.

use serde::{Deserialize, Serialize};

/// A sign-in link.
#[derive(Clone, Serialize, Deserialize)]
pub struct DashboardLinkView {
    /// Open it in a browser (once, before it expires).
    pub url: String,
    /// When it stops working, ms since the epoch.
    pub expires_unix_ms: u64,
    /// Who it signs in, and as what.
    pub user: String,
    /// Their role.
    pub role: String,
}

impl std::fmt::Debug for DashboardLinkView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardLinkView")
            .field("user", &self.user)
            .field("expires_unix_ms", &self.expires_unix_ms)
            .finish_non_exhaustive()
    }
}
