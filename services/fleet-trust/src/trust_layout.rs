//! [`TrustLayout`]: where each piece of trust material lives under the hub's data directory `D`.
//!
//! ```text
//! D/admin.creds                     the built-in admin (HUB account), handed out (0600)
//! D/ca.pem                          the CA bundle clients trust (current CA, plus the next one during a rotation)
//! D/trust/operator.nk, operator.jwt operator seed (0600) and JWT
//! D/trust/accounts/<NAME>.nk, .jwt  account seed (0600) and its latest JWT (what the servers should have)
//! D/trust/resolver/                 nats-server's full account resolver (written by the server)
//! D/trust/system.creds              system account user, pushes account JWTs (0600)
//! D/trust/hub.creds                 the hub process in the HUB account (0600)
//! D/trust/api.creds                 the hub process's API service in the API account (0600)
//! D/trust/trust.creds               the hub process in the TRUST account (0600): a hub cluster's shared trust
//! D/trust/tls/ca.pem, ca-key.pem    the current fleet CA (key 0600)
//! D/trust/tls/next-ca.pem, next-ca-key.pem   the next fleet CA, during a CA rotation only
//! D/trust/tls/server.pem, server-key.pem     the hub's server certificate (key 0600)
//! D/trust/tls/route.pem, route-key.pem       the hub server's route certificate, in a hub cluster (key 0600)
//! D/trust/sites/<site>.json         a site's record (its leaf users, added/revoked times)
//! D/trust/sites/<site>/hub.creds    the hub process in the site's account (0600)
//! D/trust/users/<name>.json         an operator user's record
//! ```
//!
//! Paths only: this module never touches the disk.

use std::path::{Path, PathBuf};

use events::Token;

use crate::account_name::AccountName;

/// The paths of a hub's trust material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustLayout {
    data_dir: PathBuf,
}

impl TrustLayout {
    /// The layout under the hub's data directory `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
        }
    }

    /// The hub's data directory (`D`), which holds the two handouts and the trust directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The seed file of account `name`.
    pub fn account_seed(&self, name: &AccountName) -> PathBuf {
        self.account_file(name, "nk")
    }

    /// The latest JWT of account `name`.
    pub fn account_jwt(&self, name: &AccountName) -> PathBuf {
        self.account_file(name, "jwt")
    }

    /// The record of `site`.
    pub fn site_record(&self, site: &Token) -> PathBuf {
        self.sites_dir().join(format!("{site}.json"))
    }

    /// The credentials of the hub process's user inside `site`'s account.
    pub fn hub_in_site_creds(&self, site: &Token) -> PathBuf {
        self.sites_dir().join(site.as_str()).join("hub.creds")
    }

    /// The record of operator user `name`.
    pub fn user_record(&self, name: &Token) -> PathBuf {
        self.users_dir().join(format!("{name}.json"))
    }

    /// `trust/accounts/<name>.<extension>`.
    fn account_file(&self, name: &AccountName, extension: &str) -> PathBuf {
        self.accounts_dir().join(format!("{name}.{extension}"))
    }
}

/// Declares the fixed paths of the layout, one table row each: `method = parent / "file name"`, where `parent` is
/// [`TrustLayout::data_dir`] or another fixed path.
macro_rules! fixed_paths {
    ($($(#[doc = $doc:literal])+ $name:ident = $parent:ident / $file:literal;)+) => {
        impl TrustLayout {
            $(
                $(#[doc = $doc])+
                pub fn $name(&self) -> PathBuf {
                    self.$parent().join($file)
                }
            )+
        }
    };
}

fixed_paths! {
    /// The built-in admin's credentials (HUB account), handed out to the first operator.
    admin_creds = data_dir / "admin.creds";
    /// The CA bundle clients and sites trust: the current fleet CA, plus the next one during a CA rotation.
    ca_bundle = data_dir / "ca.pem";
    /// The trust directory, readable by its owner only.
    trust_dir = data_dir / "trust";
    /// The operator's seed file.
    operator_seed = trust_dir / "operator.nk";
    /// The operator JWT (named by `operator:` in the server config).
    operator_jwt = trust_dir / "operator.jwt";
    /// The directory of account seeds and JWTs.
    accounts_dir = trust_dir / "accounts";
    /// The full resolver's directory, owned by nats-server once it runs.
    resolver_dir = trust_dir / "resolver";
    /// The system account user's credentials (pushes account JWTs to `$SYS.REQ.CLAIMS.UPDATE`).
    system_creds = trust_dir / "system.creds";
    /// The hub process's user in the HUB account.
    hub_creds = trust_dir / "hub.creds";
    /// The hub process's API service user in the API account.
    api_creds = trust_dir / "api.creds";
    /// The hub process's user in the TRUST account (shares trust changes with the other hubs of a cluster).
    trust_creds = trust_dir / "trust.creds";
    /// The site records and the hub's credentials inside each site's account.
    sites_dir = trust_dir / "sites";
    /// The operator user records.
    users_dir = trust_dir / "users";
    /// The directory of the fleet CA and the hub's certificates.
    tls_dir = trust_dir / "tls";
    /// The current fleet CA's certificate.
    ca_cert = tls_dir / "ca.pem";
    /// The current fleet CA's private key.
    ca_key = tls_dir / "ca-key.pem";
    /// The next fleet CA's certificate (during a CA rotation).
    next_ca_cert = tls_dir / "next-ca.pem";
    /// The next fleet CA's private key (during a CA rotation).
    next_ca_key = tls_dir / "next-ca-key.pem";
    /// The hub's server certificate (issued by the fleet CA).
    server_cert = tls_dir / "server.pem";
    /// The hub's server certificate's private key.
    server_key = tls_dir / "server-key.pem";
    /// The hub server's route certificate (server and client authentication, for a hub cluster's routes).
    route_cert = tls_dir / "route.pem";
    /// The route certificate's private key.
    route_key = tls_dir / "route-key.pem";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handouts_lie_in_the_data_directory_and_everything_else_in_trust() {
        let layout = TrustLayout::new("/hub");
        let site = Token::new("a").unwrap();

        assert_eq!(layout.admin_creds(), Path::new("/hub/admin.creds"));
        assert_eq!(layout.ca_bundle(), Path::new("/hub/ca.pem"));
        assert_eq!(layout.operator_seed(), Path::new("/hub/trust/operator.nk"));
        assert_eq!(
            layout.account_jwt(&AccountName::hub()),
            Path::new("/hub/trust/accounts/HUB.jwt")
        );
        assert_eq!(layout.server_key(), Path::new("/hub/trust/tls/server-key.pem"));
        assert_eq!(layout.site_record(&site), Path::new("/hub/trust/sites/a.json"));
        assert_eq!(
            layout.hub_in_site_creds(&site),
            Path::new("/hub/trust/sites/a/hub.creds")
        );
        assert_eq!(
            layout.user_record(&Token::new("vera").unwrap()),
            Path::new("/hub/trust/users/vera.json")
        );
    }
}
