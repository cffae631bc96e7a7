//! [`TlsFiles`]: which certificate, key and CA files a server uses: issued by the fleet CA, or supplied by the
//! user (e.g. from a company CA). Paths only; the files are read by nats-server.

use std::path::PathBuf;

use crate::error::TrustError;

/// The PEM files a TLS endpoint uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate (chain) presented to peers.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// The CA certificate(s) peers' certificates are checked against, and that clients trust.
    pub ca: PathBuf,
}

impl TlsFiles {
    /// User-supplied files; refused if one of them does not exist.
    pub fn supplied(cert: PathBuf, key: PathBuf, ca: PathBuf) -> Result<Self, TrustError> {
        for (role, path) in [("cert", &cert), ("key", &key), ("ca", &ca)] {
            if !path.is_file() {
                return Err(TrustError::TlsFileMissing {
                    role,
                    path: path.clone(),
                });
            }
        }
        Ok(Self { cert, key, ca })
    }
}
