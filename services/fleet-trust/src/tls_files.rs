//! The TLS files a server uses — [`TlsFiles`], nats-process's own type, which renders them into `nats.conf` —
//! issued by the fleet CA, or supplied by the user (e.g. from a company CA) and checked here.

use std::path::PathBuf;

pub use nats_process::TlsFiles;

use crate::error::TrustError;

/// User-supplied certificate, key and CA files; refused if one of them does not exist.
pub fn supplied_tls_files(cert: PathBuf, key: PathBuf, ca: PathBuf) -> Result<TlsFiles, TrustError> {
    for (role, path) in [("cert", &cert), ("key", &key), ("ca", &ca)] {
        if !path.is_file() {
            return Err(TrustError::TlsFileMissing {
                role,
                path: path.clone(),
            });
        }
    }
    Ok(TlsFiles { cert, key, ca })
}
