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

    /// The operator's seed file.
    pub fn operator_seed(&self) -> PathBuf {
        self.dir.join("operator.nk")
    }

    /// The operator JWT (named by `operator:` in the server config).
    pub fn operator_jwt(&self) -> PathBuf {
        self.dir.join("operator.jwt")
    }

    /// The directory of account seeds and JWTs.
    pub fn accounts_dir(&self) -> PathBuf {
        self.dir.join("accounts")
    }

    /// The seed file of account `name`.
    pub fn account_seed(&self, name: &AccountName) -> PathBuf {
        self.accounts_dir().join(format!("{name}.nk"))
    }

    /// The latest JWT of account `name`.
    pub fn account_jwt(&self, name: &AccountName) -> PathBuf {
        self.accounts_dir().join(format!("{name}.jwt"))
    }

    /// The full resolver's directory, owned by nats-server once it runs.
    pub fn resolver_dir(&self) -> PathBuf {
        self.dir.join("resolver")
    }

    /// The hub account's admin credentials.
    pub fn admin_creds(&self) -> PathBuf {
        self.dir.join("admin.creds")
    }

    /// The system account user's credentials (pushes account JWTs to `$SYS.REQ.CLAIMS.UPDATE`).
    pub fn system_creds(&self) -> PathBuf {
        self.dir.join("system.creds")
    }

    /// The directory of the fleet CA and the hub's certificates.
    pub fn tls_dir(&self) -> PathBuf {
        self.dir.join("tls")
    }

    /// The hub's server certificate (issued by the fleet CA).
    pub fn server_cert(&self) -> PathBuf {
        self.tls_dir().join("server.pem")
    }

    /// The hub's server certificate's private key.
    pub fn server_key(&self) -> PathBuf {
        self.tls_dir().join("server-key.pem")
    }
}
