//! [`TlsFiles`]: the certificate, key and CA a server's listen ports speak TLS with, and their
//! `tls { … }` block.
//!
//! Pure: renders text; never reads the files (nats-server does, at every start and reload).

use std::path::PathBuf;

use crate::conf_string::config_string;

/// Seconds a TLS handshake may take before the server drops the connection.
const TLS_TIMEOUT_S: u32 = 2;

/// PEM files for TLS on a server's client port and leafnodes listen port.
///
/// Client certificates are not required: clients and leaves authenticate with credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server certificate (with its chain), `cert_file`.
    pub cert: PathBuf,
    /// The server certificate's private key, `key_file`.
    pub key: PathBuf,
    /// The CA certificate, `ca_file`.
    pub ca: PathBuf,
}

impl TlsFiles {
    /// The `tls { … }` block, every line indented by `indent` spaces.
    pub(crate) fn render_block(&self, indent: usize) -> Vec<String> {
        let pad = " ".repeat(indent);
        vec![
            format!("{pad}tls {{"),
            format!("{pad}  cert_file: {}", config_string(&self.cert.to_string_lossy())),
            format!("{pad}  key_file: {}", config_string(&self.key.to_string_lossy())),
            format!("{pad}  ca_file: {}", config_string(&self.ca.to_string_lossy())),
            format!("{pad}  timeout: {TLS_TIMEOUT_S}"),
            format!("{pad}}}"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_names_every_file_and_a_handshake_timeout_but_no_client_verification() {
        let files = TlsFiles {
            cert: "/etc/ef/server.pem".into(),
            key: "/etc/ef/server-key.pem".into(),
            ca: "/etc/ef/ca.pem".into(),
        };

        assert_eq!(
            files.render_block(2).join("\n"),
            "  tls {\n    cert_file: \"/etc/ef/server.pem\"\n    key_file: \"/etc/ef/server-key.pem\"\n    \
             ca_file: \"/etc/ef/ca.pem\"\n    timeout: 2\n  }"
        );
        assert!(!files.render_block(0).join("\n").contains("verify"));
    }
}
