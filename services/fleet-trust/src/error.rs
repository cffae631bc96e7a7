//! [`TrustError`]: why trust material could not be created, loaded or issued.

use std::io;
use std::path::{Path, PathBuf};

use events::Token;

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
    /// A site id that names something else in the fleet's subjects (`all`, `hub`, `fleet`).
    #[error("site id '{site}' is reserved: it already names {meaning}; choose another id")]
    ReservedSiteId {
        /// The id asked for.
        site: Token,
        /// What it names.
        meaning: &'static str,
    },
    /// The site was added before.
    #[error("site '{site}' exists: use rotate_site for new credentials, or revoke_site to cut it off")]
    SiteExists {
        /// The site.
        site: Token,
    },
    /// No such site was added.
    #[error("site '{site}' is unknown: add it first")]
    UnknownSite {
        /// The site.
        site: Token,
    },
    /// An operator user of that name exists and is not revoked.
    #[error("user '{name}' exists: revoke it first to issue new credentials under that name")]
    UserExists {
        /// The name.
        name: Token,
    },
    /// No operator user of that name was added.
    #[error("user '{name}' is unknown")]
    UnknownUser {
        /// The name.
        name: Token,
    },
    /// `complete_ca_rotation` without `begin_ca_rotation`.
    #[error("no CA rotation is in progress: begin one first")]
    NoCaRotation,
    /// A site bundle would overwrite files.
    #[error("{dir} is not empty: write a site bundle into a new or empty directory")]
    BundleDirNotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// A record (site, user, bundle) is not what this crate writes.
    #[error("{path}: {reason}; restore it from backup")]
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
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
