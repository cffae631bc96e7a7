//! The nats-server `tls { … }` blocks: on the client port, on the leafnodes listen port, and in a leaf remote.
//!
//! Pure: renders text. The default handshake is nats-server's: the server sends INFO in clear text (announcing
//! `tls_required`), then both sides upgrade to TLS before anything else is said (no `handshake_first`).

use std::path::PathBuf;

use crate::conf_string::{quoted, quoted_path};
use crate::tls_files::TlsFiles;

/// Seconds a TLS handshake may take before the server drops the connection.
pub const DEFAULT_TLS_TIMEOUT_S: f64 = 2.0;

/// TLS of a server's listen port (clients or leaves).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerTls {
    /// Certificate, key and CA.
    pub files: TlsFiles,
    /// Handshake timeout, seconds.
    pub timeout_s: f64,
    /// Require and verify client certificates against the CA (`verify: true`).
    pub verify_client_certs: bool,
}

impl ServerTls {
    /// TLS with `files`, the default timeout, and no client certificates required.
    pub fn new(files: TlsFiles) -> Self {
        Self {
            files,
            timeout_s: DEFAULT_TLS_TIMEOUT_S,
            verify_client_certs: false,
        }
    }

    /// The `tls { … }` block, each line indented by `indent` spaces.
    pub fn render_block(&self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let mut lines = vec![
            format!("{pad}tls {{"),
            format!("{pad}  cert_file: {}", quoted_path(&self.files.cert)),
            format!("{pad}  key_file: {}", quoted_path(&self.files.key)),
            format!("{pad}  ca_file: {}", quoted_path(&self.files.ca)),
            format!("{pad}  timeout: {}", self.timeout_s),
        ];
        if self.verify_client_certs {
            lines.push(format!("{pad}  verify: true"));
        }
        lines.push(format!("{pad}}}"));
        lines.join("\n")
    }

    /// TLS on the client port: the top-level `tls` block.
    pub fn render_client_port(&self) -> String {
        format!("{}\n", self.render_block(0))
    }

    /// A `leafnodes` block listening on `listen` (`host:port`) with this TLS; `no_advertise` so leaves dial only
    /// the URL they were given.
    pub fn render_leafnodes_listen(&self, listen: &str) -> String {
        format!(
            "leafnodes {{\n  listen: {}\n  no_advertise: true\n{}\n}}\n",
            quoted(listen),
            self.render_block(2)
        )
    }
}

/// TLS of a leaf remote (the site side): the CA the hub's leaf certificate is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTls {
    /// The CA file.
    pub ca: PathBuf,
}

impl RemoteTls {
    /// The remote's `tls: { ca_file }` entry on one line.
    pub fn render_block(&self) -> String {
        format!("tls: {{ ca_file: {} }}", quoted_path(&self.ca))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> TlsFiles {
        TlsFiles {
            cert: "/t/server.pem".into(),
            key: "/t/server-key.pem".into(),
            ca: "/t/ca.pem".into(),
        }
    }

    #[test]
    fn the_client_port_block_names_every_file_and_the_timeout() {
        assert_eq!(
            ServerTls::new(files()).render_client_port(),
            "tls {\n  cert_file: \"/t/server.pem\"\n  key_file: \"/t/server-key.pem\"\n  \
             ca_file: \"/t/ca.pem\"\n  timeout: 2\n}\n"
        );
    }

    #[test]
    fn the_leafnodes_listen_block_nests_tls() {
        let mut tls = ServerTls::new(files());
        tls.verify_client_certs = true;

        let text = tls.render_leafnodes_listen("0.0.0.0:7422");

        assert!(
            text.starts_with("leafnodes {\n  listen: \"0.0.0.0:7422\"\n  no_advertise: true\n  tls {\n"),
            "{text}"
        );
        assert!(text.contains("    verify: true\n  }\n}\n"), "{text}");
    }

    #[test]
    fn a_remote_trusts_the_ca() {
        let tls = RemoteTls { ca: "/s/ca.pem".into() };

        assert_eq!(tls.render_block(), "tls: { ca_file: \"/s/ca.pem\" }");
    }
}
