//! Sites as the hub knows them: adding one (its account at the hub, the hub's user inside it, a leaf user and a
//! server certificate for the site's own server), rotating its leaf credentials, and cutting it off. Each site has
//! a record in `trust/sites/<site>.json` listing every leaf user it was ever issued.
//!
//! Revoking a site revokes its leaf users only, never the hub's user inside its account: the hub keeps reading
//! the site's history. Every change returns the site account's new JWT, which takes effect once pushed
//! ([`crate::push_account_jwt`]).

use std::path::PathBuf;

use events::Token;
use serde::{Deserialize, Serialize};

use crate::account_name::AccountName;
use crate::error::{io_error, TrustError};
use crate::fleet_ca::ServerNames;
use crate::jwt_encode::now_s;
use crate::record_file::{read_record, read_records, write_record};
use crate::site_account::site_account_claims;
use crate::site_bundle::SiteBundle;
use crate::site_users::{hub_in_site_user, site_leaf_user};
use crate::trust_root::TrustRoot;

/// Site ids that already name something else in the fleet's subjects, and what.
const RESERVED_SITE_IDS: [(&str, &str); 3] = [
    ("all", "the fleet-wide intents (ef.intent.all.>)"),
    ("hub", "the hub's JetStream domain ($JS.hub.API)"),
    (
        "fleet",
        "the prefix of the hub's JetStream API inside site accounts ($JS.fleet.API)",
    ),
];

/// What the hub knows about a site (`trust/sites/<site>.json`). Public keys and times only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRecord {
    /// The site.
    pub site: Token,
    /// The public keys of every leaf user ever issued to the site, oldest first; all but the last are revoked.
    pub leaf_users: Vec<String>,
    /// When the site was added, unix seconds.
    pub added_at_s: u64,
    /// When the site was cut off ([`TrustRoot::revoke_site`]), unix seconds; `None` while it may connect.
    pub revoked_at_s: Option<u64>,
}

/// A site just added: its account JWT (push it before the site connects) and its bundle (hand it to the site).
#[derive(Debug)]
pub struct SiteIssue {
    /// The site account's JWT, to push to the hub.
    pub account_jwt: String,
    /// What the site's own server needs.
    pub bundle: SiteBundle,
}

impl TrustRoot {
    /// Adds `site`: issues its account (JWT returned for pushing), the hub's user inside it
    /// ([`TrustRoot::hub_in_site_creds_path`]), a leaf user and a server certificate valid for `server_names` and
    /// localhost, and records it.
    ///
    /// Refuses a reserved id (`all`, `hub`, `fleet`) and a site that was added before (use
    /// [`TrustRoot::rotate_site`]).
    pub fn add_site(&self, site: &Token, server_names: &ServerNames) -> Result<SiteIssue, TrustError> {
        if let Some((_, meaning)) = RESERVED_SITE_IDS.iter().find(|(id, _)| *id == site.as_str()) {
            return Err(TrustError::ReservedSiteId {
                site: site.clone(),
                meaning,
            });
        }
        if self.site_record(site)?.is_some() {
            return Err(TrustError::SiteExists { site: site.clone() });
        }
        let account_jwt = self.issue_site_account_revoking(site, &[])?;
        self.ensure_creds(
            &self.hub_in_site_creds_path(site),
            &AccountName::site(site),
            &format!("hub-in-{site}"),
            &hub_in_site_user(),
        )?;
        let bundle = self.site_bundle(site, server_names)?;
        let record = SiteRecord {
            site: site.clone(),
            leaf_users: vec![bundle.leaf_creds.user_public_key()],
            added_at_s: now_s(),
            revoked_at_s: None,
        };
        write_record(&self.layout.site_record(site), &record)?;
        Ok(SiteIssue { account_jwt, bundle })
    }

    /// New leaf credentials and certificate for `site` (valid for `server_names` and localhost), revoking every
    /// earlier leaf user; lets a revoked site back in. Returns the account JWT to push and the new bundle.
    pub fn rotate_site(&self, site: &Token, server_names: &ServerNames) -> Result<(String, SiteBundle), TrustError> {
        let mut record = self.existing_site(site)?;
        let bundle = self.site_bundle(site, server_names)?;
        let account_jwt = self.issue_site_account_revoking(site, &record.leaf_users)?;
        record.leaf_users.push(bundle.leaf_creds.user_public_key());
        record.revoked_at_s = None;
        write_record(&self.layout.site_record(site), &record)?;
        Ok((account_jwt, bundle))
    }

    /// Cuts `site` off: every leaf user it was issued is revoked (the hub's user inside its account is not).
    /// Returns the account JWT to push; once pushed, the site's leaf connection is closed and refused.
    pub fn revoke_site(&self, site: &Token) -> Result<String, TrustError> {
        let mut record = self.existing_site(site)?;
        let account_jwt = self.issue_site_account_revoking(site, &record.leaf_users)?;
        record.revoked_at_s = record.revoked_at_s.or(Some(now_s()));
        write_record(&self.layout.site_record(site), &record)?;
        Ok(account_jwt)
    }

    /// Every site ever added (revoked ones included), by id.
    pub fn sites(&self) -> Result<Vec<SiteRecord>, TrustError> {
        read_records(&self.layout.sites_dir())
    }

    /// The record of `site`, if it was added.
    pub fn site_record(&self, site: &Token) -> Result<Option<SiteRecord>, TrustError> {
        read_record(&self.layout.site_record(site))
    }

    /// The credentials of the hub process's user inside `site`'s account (full there, client connections only):
    /// it creates the hub's copy `EF_SITE_<site>` and answers the site's beacon.
    pub fn hub_in_site_creds_path(&self, site: &Token) -> PathBuf {
        self.layout.hub_in_site_creds(site)
    }

    fn existing_site(&self, site: &Token) -> Result<SiteRecord, TrustError> {
        self.site_record(site)?
            .ok_or_else(|| TrustError::UnknownSite { site: site.clone() })
    }

    /// Issues `site`'s account with the current claims, the stored revocations, and `revoked_leaf_users` revoked
    /// as of now.
    fn issue_site_account_revoking(&self, site: &Token, revoked_leaf_users: &[String]) -> Result<String, TrustError> {
        let mut claims = site_account_claims(site, &self.hub_account_public_key());
        let now = now_s();
        for user in revoked_leaf_users {
            claims.revoke_user(user, now);
        }
        self.issue_account(&AccountName::site(site), &claims)
    }

    /// A new leaf user and server certificate for `site`, with the CAs to trust.
    fn site_bundle(&self, site: &Token, server_names: &ServerNames) -> Result<SiteBundle, TrustError> {
        let leaf_creds = self.issue_user(
            &AccountName::site(site),
            &format!("{site}-leaf"),
            &site_leaf_user(site),
            None,
        )?;
        let mut names = server_names.including_localhost();
        let pinned = site_server_name(site);
        if !names.dns_names.contains(&pinned) {
            names.dns_names.push(pinned);
        }
        let cert = self.ca.issue_server_pem(&names)?;
        let hub_ca = self.layout.ca_bundle();
        let local_reader = crate::nkey::UserKey::generate();
        Ok(SiteBundle {
            site: site.clone(),
            leaf_creds,
            hub_ca_pem: std::fs::read_to_string(&hub_ca).map_err(io_error("read", &hub_ca))?,
            site_ca_pem: self.site_ca_pem()?,
            site_cert_pem: cert.cert_pem,
            site_key_pem: cert.key_pem,
            local_reader_public_key: Some(local_reader.public_key()),
            local_reader_seed: Some(local_reader.seed()),
        })
    }
}

/// The name every site server certificate carries besides the names it was issued for: the site's machines find
/// each other's addresses on the LAN (no DNS, addresses from DHCP), so they verify a site server by this name
/// whatever address they dialed.
pub fn site_server_name(site: &Token) -> String {
    format!("{site}.site.edgefleet")
}
