//! A throwaway CA and a server certificate for `localhost` and `127.0.0.1`, written as PEM files
//! into a temp dir, for servers that speak TLS in tests.
//!
//! The dir's name has characters that mean something in nats-server's config syntax, so every
//! TLS test also checks that the rendered file paths are quoted.

use nats_process::TlsFiles;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tempfile::TempDir;

/// PEM files of a fresh CA and a server certificate it signed; removed when dropped.
pub struct TestCa {
    /// `ca.pem`, `server.pem` and `server-key.pem`.
    pub files: TlsFiles,
    /// Holds the files.
    _dir: TempDir,
}

impl TestCa {
    /// A new CA and a server certificate for `localhost` and `127.0.0.1`.
    pub fn localhost() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let mut ca_params = CertificateParams::new(Vec::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "nats-process test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut server_params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        server_params.distinguished_name.push(DnType::CommonName, "localhost");
        server_params.use_authority_key_identifier_extension = true;
        let server_key = KeyPair::generate()?;
        let server_cert = server_params.signed_by(&server_key, &issuer)?;

        let dir = tempfile::Builder::new()
            .prefix("test ca \"pem\" $x #y {z} ")
            .tempdir()?;
        let files = TlsFiles {
            cert: dir.path().join("server.pem"),
            key: dir.path().join("server-key.pem"),
            ca: dir.path().join("ca.pem"),
        };
        std::fs::write(&files.ca, ca_cert.pem())?;
        std::fs::write(&files.cert, server_cert.pem())?;
        std::fs::write(&files.key, server_key.serialize_pem())?;
        Ok(Self { files, _dir: dir })
    }
}
