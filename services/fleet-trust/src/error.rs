//! [`TrustError`]: why trust material could not be created, loaded or issued.

use std::io;
use std::path::{Path, PathBuf};

use crate::jwt_error::JwtError;
use crate::nkey::KeyError;
use crate::user_creds::CredsError;

/// Why trust material could not be created, loaded or issued.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A file or directory could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `create directory`).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A seed file does not hold a seed of the expected role.
    #[error("{path}: {source}")]
    KeyFile {
        /// The seed file.
        path: PathBuf,
        /// Why its content is not usable.
        source: KeyError,
    },
    /// A stored JWT does not verify against the key that should have signed it.
    #[error("{path}: {source}; restore the trust directory from backup or remove this file to re-issue it")]
    StoredJwt {
        /// The JWT file.
        path: PathBuf,
        /// Why it is refused.
        source: JwtError,
    },
    /// A `.creds` file is not usable.
    #[error("{path}: {source}")]
    Creds {
        /// The `.creds` file.
        path: PathBuf,
        /// Why.
        source: CredsError,
    },
    /// Signing a JWT failed.
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// The trust directory holds material signed by an operator key that is gone.
    #[error(
        "trust directory {dir} has {present} but no operator key at {missing}: restore the operator key from \
         backup (a new one would invalidate every account and credential issued so far)"
    )]
    OperatorKeyMissing {
        /// The trust directory.
        dir: PathBuf,
        /// The missing operator seed file.
        missing: PathBuf,
        /// What is there although the operator key is not.
        present: PathBuf,
    },
    /// A certificate or its key could not be made or read.
    #[error("certificate {what}: {reason}")]
    Certificate {
        /// Which certificate or key.
        what: String,
        /// What rcgen or the PEM parser said.
        reason: String,
    },
    /// A revocation names something that is not a user's public key (nor `*`).
    #[error("cannot revoke {key:?}: {source}")]
    NotAUser {
        /// What was named.
        key: String,
        /// Why it is not a user key.
        source: KeyError,
    },
    /// A user-supplied TLS file does not exist.
    #[error("TLS {role} file {path} does not exist")]
    TlsFileMissing {
        /// `cert`, `key` or `ca`.
        role: &'static str,
        /// The path given.
        path: PathBuf,
    },
}

/// Maps an `io::Error` on `path` to [`TrustError::Io`].
pub(crate) fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> TrustError {
    let path = path.to_owned();
    move |source| TrustError::Io { action, path, source }
}
