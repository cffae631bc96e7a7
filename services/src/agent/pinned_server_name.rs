//! TLS to a site server found on the LAN: the address comes from discovery (DHCP, no DNS), so the certificate is
//! checked against the site's CA for the site's own name (`fleet_trust::site_server_name`), whatever address was
//! dialed. Nothing else is relaxed: the chain, validity and signatures are checked by rustls' WebPKI verifier.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::path::Path;
use std::sync::Arc;

/// Why the TLS settings could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PinnedTlsError {
    /// The CA file.
    #[error("the site CA {path}: {reason}")]
    CaFile {
        /// Its path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The pinned name is not a DNS name.
    #[error("{0:?} is not a DNS name a certificate can carry")]
    BadName(String),
    /// rustls refused the settings.
    #[error("TLS settings: {0}")]
    Settings(String),
}

/// Verifies a server's certificate for `name` instead of the name dialed.
#[derive(Debug)]
struct PinnedServerName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for PinnedServerName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _dialed: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A client TLS configuration trusting the CAs in `ca_file` for servers named `name`.
pub fn client_config(ca_file: &Path, name: &str) -> Result<rustls::ClientConfig, PinnedTlsError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |reason: String| PinnedTlsError::CaFile {
        path: ca_file.display().to_string(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| PinnedTlsError::Settings(e.to_string()))?;
    let name = ServerName::try_from(name.to_owned()).map_err(|_| PinnedTlsError::BadName(name.to_owned()))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PinnedTlsError::Settings(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServerName { inner, name }))
        .with_no_client_auth();
    Ok(config)
}
