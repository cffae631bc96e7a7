//! [`TrustLayout`]: where each piece of trust material lives in the hub's trust directory.
//!
//! ```text
//! <dir>/operator.nk            operator seed (0600)
//! <dir>/operator.jwt           operator JWT
//! <dir>/accounts/<NAME>.nk     account seed (0600)
//! <dir>/accounts/<NAME>.jwt    the account's latest JWT (what the servers should have)
//! <dir>/resolver/              nats-server's full account resolver (written by the server)
//! <dir>/admin.creds            admin user of the hub account (0600)
//! <dir>/system.creds           system account user, pushes account JWTs (0600)
//! <dir>/tls/ca.pem, ca-key.pem the fleet CA (key 0600)
//! <dir>/tls/server.pem, server-key.pem  the hub's server certificate (key 0600)
//! ```
//!
//! Paths only: this module never touches the disk.

use std::path::{Path, PathBuf};

use crate::account_name::AccountName;

/// The paths of a trust directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustLayout {
    dir: PathBuf,
}

impl TrustLayout {
    /// The layout of the trust directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The trust directory itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The seed file of account `name`.
    pub fn account_seed(&self, name: &AccountName) -> PathBuf {
        self.account_file(name, "nk")
    }

    /// The latest JWT of account `name`.
    pub fn account_jwt(&self, name: &AccountName) -> PathBuf {
        self.account_file(name, "jwt")
    }

    /// `accounts/<name>.<extension>`.
    fn account_file(&self, name: &AccountName, extension: &str) -> PathBuf {
        self.accounts_dir().join(format!("{name}.{extension}"))
    }
}

/// Declares the fixed paths of the layout, one table row each: `method = parent / "file name"`, where `parent` is
/// [`TrustLayout::dir`] or another fixed path.
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
    /// The operator's seed file.
    operator_seed = dir / "operator.nk";
    /// The operator JWT (named by `operator:` in the server config).
    operator_jwt = dir / "operator.jwt";
    /// The directory of account seeds and JWTs.
    accounts_dir = dir / "accounts";
    /// The full resolver's directory, owned by nats-server once it runs.
    resolver_dir = dir / "resolver";
    /// The hub account's admin credentials.
    admin_creds = dir / "admin.creds";
    /// The system account user's credentials (pushes account JWTs to `$SYS.REQ.CLAIMS.UPDATE`).
    system_creds = dir / "system.creds";
    /// The directory of the fleet CA and the hub's certificates.
    tls_dir = dir / "tls";
    /// The hub's server certificate (issued by the fleet CA).
    server_cert = tls_dir / "server.pem";
    /// The hub's server certificate's private key.
    server_key = tls_dir / "server-key.pem";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_lies_in_the_trust_directory() {
        let layout = TrustLayout::new("/trust");

        assert_eq!(layout.operator_seed(), Path::new("/trust/operator.nk"));
        assert_eq!(
            layout.account_jwt(&AccountName::hub()),
            Path::new("/trust/accounts/HUB.jwt")
        );
        assert_eq!(layout.server_key(), Path::new("/trust/tls/server-key.pem"));
    }
}
