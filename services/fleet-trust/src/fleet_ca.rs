//! The fleet CA: a self-signed certificate authority created on the hub's first start (`ca.pem`, and `ca-key.pem`
//! owner-only), which issues the certificates of the hub's TLS ports and, if wanted, client certificates.
//!
//! The CA's name is derived from its key (`edgefleet fleet CA <hash>`), so a CA loaded from its key file issues
//! certificates whose issuer matches `ca.pem` exactly without parsing it. Keys are ECDSA P-256.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::atomic_file::{write_atomically, FileAccess};
use crate::error::{io_error, TrustError};
use crate::tls_files::TlsFiles;

/// How long the fleet CA is valid.
pub const CA_VALIDITY_DAYS: i64 = 20 * 365;
/// How long an issued certificate is valid; re-issue the server certificate at every start to never reach it.
pub const ISSUED_CERT_VALIDITY_DAYS: i64 = 825;
/// Certificates are valid from this long before now, so a peer's clock running slightly behind accepts them.
const CLOCK_SKEW_ALLOWANCE_S: i64 = 3_600;

/// The names a server certificate is valid for (its subject alternative names).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerNames {
    /// DNS names (`hub.example.com`, `localhost`).
    pub dns_names: Vec<String>,
    /// IP addresses (`127.0.0.1`, `::1`).
    pub ip_addresses: Vec<IpAddr>,
}

impl ServerNames {
    /// `localhost`, `127.0.0.1` and `::1`: enough for a hub and its clients on one machine.
    pub fn localhost() -> Self {
        Self {
            dns_names: vec!["localhost".to_owned()],
            ip_addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)],
        }
    }

    /// These names plus [`ServerNames::localhost`]'s (each once): a site's certificate also serves the clients
    /// on the site server's own machine.
    pub fn including_localhost(&self) -> Self {
        let mut names = self.clone();
        let local = Self::localhost();
        for dns in local.dns_names {
            if !names.dns_names.contains(&dns) {
                names.dns_names.push(dns);
            }
        }
        for ip in local.ip_addresses {
            if !names.ip_addresses.contains(&ip) {
                names.ip_addresses.push(ip);
            }
        }
        names
    }

    fn subject_alt_names(&self) -> Result<Vec<SanType>, TrustError> {
        let dns = self.dns_names.iter().map(|name| {
            name.clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|error| certificate_error(&format!("DNS name {name:?}"), error))
        });
        let ips = self.ip_addresses.iter().map(|ip| Ok(SanType::IpAddress(*ip)));
        dns.chain(ips).collect()
    }
}

/// The fleet CA, able to issue certificates.
pub struct FleetCa {
    cert_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

impl FleetCa {
    /// Loads the CA in `dir` (`ca.pem`, `ca-key.pem`), or creates it there if neither file exists.
    ///
    /// Refuses a directory with one file but not the other: a new CA would silently distrust every certificate.
    pub fn open_or_create(dir: &Path) -> Result<Self, TrustError> {
        Self::open_or_create_at(dir.join("ca.pem"), &dir.join("ca-key.pem"))
    }

    /// Loads the CA whose certificate is `cert_path` and key `key_path`, or creates it there if neither file
    /// exists; refuses one file without the other.
    pub fn open_or_create_at(cert_path: PathBuf, key_path: &Path) -> Result<Self, TrustError> {
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => Self::load(cert_path, key_path),
            (false, false) => Self::create(cert_path, key_path),
            (cert_exists, _) => {
                let (missing, present) = if cert_exists {
                    (key_path, cert_path.as_path())
                } else {
                    (cert_path.as_path(), key_path)
                };
                Err(TrustError::Certificate {
                    what: missing.display().to_string(),
                    reason: format!(
                        "missing while {} exists: restore it from backup, or remove both to create a new CA",
                        present.display()
                    ),
                })
            }
        }
    }

    /// The CA certificate file (`ca_file` for servers and remotes, root certificate for clients).
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> Result<String, TrustError> {
        std::fs::read_to_string(&self.cert_path).map_err(io_error("read", &self.cert_path))
    }

    /// A new server certificate for `names` and its new key, in memory (e.g. for a site's bundle).
    pub fn issue_server_pem(&self, names: &ServerNames) -> Result<IssuedCert, TrustError> {
        let common_name = names
            .dns_names
            .first()
            .cloned()
            .or_else(|| names.ip_addresses.first().map(IpAddr::to_string))
            .unwrap_or_else(|| "edgefleet server".to_owned());
        let mut params = issued_params(&common_name);
        params.subject_alt_names = names.subject_alt_names()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue_pem(&params, &common_name)
    }

    /// Issues a server certificate for `names`, writing it to `cert_path` and its key (owner-only) to `key_path`.
    pub fn issue_server_cert(
        &self,
        names: &ServerNames,
        cert_path: &Path,
        key_path: &Path,
    ) -> Result<TlsFiles, TrustError> {
        self.issue_server_pem(names)?.write(cert_path, key_path)?;
        Ok(self.files(cert_path, key_path))
    }

    /// Issues a route certificate for `names`: valid for server and client authentication, so the servers of a
    /// cluster can check each other's routes both ways (`verify: true`).
    pub fn issue_route_cert(
        &self,
        names: &ServerNames,
        cert_path: &Path,
        key_path: &Path,
    ) -> Result<TlsFiles, TrustError> {
        let common_name = "edgefleet hub route";
        let mut params = issued_params(common_name);
        params.subject_alt_names = names.subject_alt_names()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        self.issue_pem(&params, common_name)?.write(cert_path, key_path)?;
        Ok(self.files(cert_path, key_path))
    }

    /// Issues a client certificate for `common_name` (for servers that verify client certificates).
    pub fn issue_client_cert(
        &self,
        common_name: &str,
        cert_path: &Path,
        key_path: &Path,
    ) -> Result<TlsFiles, TrustError> {
        let mut params = issued_params(common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue_pem(&params, common_name)?.write(cert_path, key_path)?;
        Ok(self.files(cert_path, key_path))
    }

    fn files(&self, cert_path: &Path, key_path: &Path) -> TlsFiles {
        TlsFiles {
            cert: cert_path.to_owned(),
            key: key_path.to_owned(),
            ca: self.cert_path.clone(),
        }
    }

    fn issue_pem(&self, params: &CertificateParams, what: &str) -> Result<IssuedCert, TrustError> {
        let key = KeyPair::generate().map_err(|error| certificate_error("key", error))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|error| certificate_error(what, error))?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    fn create(cert_path: PathBuf, key_path: &Path) -> Result<Self, TrustError> {
        let key = KeyPair::generate().map_err(|error| certificate_error("CA key", error))?;
        let mut params = ca_params(&key);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::seconds(CLOCK_SKEW_ALLOWANCE_S);
        params.not_after = now + Duration::days(CA_VALIDITY_DAYS);
        let cert = params
            .self_signed(&key)
            .map_err(|error| certificate_error("CA", error))?;
        // The key first: a cert without its key is refused at the next start, a key without cert is not created.
        write_atomically(key_path, key.serialize_pem().as_bytes(), FileAccess::OwnerOnly)
            .map_err(io_error("write", key_path))?;
        write_atomically(&cert_path, cert.pem().as_bytes(), FileAccess::WorldReadable)
            .map_err(io_error("write", &cert_path))?;
        Ok(Self {
            cert_path,
            issuer: Issuer::new(params, key),
        })
    }

    fn load(cert_path: PathBuf, key_path: &Path) -> Result<Self, TrustError> {
        let pem = std::fs::read_to_string(key_path).map_err(io_error("read", key_path))?;
        let key = KeyPair::from_pem(&pem).map_err(|error| certificate_error(&key_path.display().to_string(), error))?;
        Ok(Self {
            cert_path,
            issuer: Issuer::new(ca_params(&key), key),
        })
    }
}

/// A certificate just issued and its private key, PEM, in memory. `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedCert {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key: a secret.
    pub key_pem: String,
}

impl IssuedCert {
    /// Writes the certificate to `cert_path` and the key, owner-only, to `key_path`.
    pub fn write(&self, cert_path: &Path, key_path: &Path) -> Result<(), TrustError> {
        write_atomically(key_path, self.key_pem.as_bytes(), FileAccess::OwnerOnly)
            .map_err(io_error("write", key_path))?;
        write_atomically(cert_path, self.cert_pem.as_bytes(), FileAccess::WorldReadable)
            .map_err(io_error("write", cert_path))
    }
}

impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert").finish_non_exhaustive()
    }
}

impl fmt::Debug for FleetCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetCa")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

/// The CA's parameters, all derived from its key (validity aside, which only the self-signed cert holds).
fn ca_params(key: &KeyPair) -> CertificateParams {
    let fingerprint = Sha256::digest(key.public_key_raw());
    let short: String = fingerprint[..6].iter().map(|byte| format!("{byte:02x}")).collect();
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(&format!("edgefleet fleet CA {short}"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Parameters of a certificate the CA issues, valid from now.
fn issued_params(common_name: &str) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(common_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - Duration::seconds(CLOCK_SKEW_ALLOWANCE_S);
    params.not_after = now + Duration::days(ISSUED_CERT_VALIDITY_DAYS);
    params
}

pub(crate) fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "edgefleet");
    name.push(DnType::CommonName, common_name);
    name
}

pub(crate) fn certificate_error(what: &str, error: impl fmt::Display) -> TrustError {
    TrustError::Certificate {
        what: what.to_owned(),
        reason: error.to_string(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::test_files::mode;

    #[test]
    fn the_ca_is_created_once_with_an_owner_only_key_and_loaded_afterwards() {
        let dir = tempfile::tempdir().unwrap();

        let created = FleetCa::open_or_create(dir.path()).unwrap();
        let pem = std::fs::read_to_string(created.cert_path()).unwrap();
        let loaded = FleetCa::open_or_create(dir.path()).unwrap();

        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        assert_eq!(
            std::fs::read_to_string(loaded.cert_path()).unwrap(),
            pem,
            "never regenerated"
        );
        assert_eq!(mode(&dir.path().join("ca-key.pem")), 0o600);
    }

    #[test]
    fn localhost_names_are_added_once() {
        let names = ServerNames {
            dns_names: vec!["site-a.example".to_owned(), "localhost".to_owned()],
            ip_addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        };

        let all = names.including_localhost();

        assert_eq!(all.dns_names, ["site-a.example", "localhost"]);
        assert_eq!(
            all.ip_addresses,
            [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]
        );
    }

    #[test]
    fn an_issued_key_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let ca = FleetCa::open_or_create(dir.path()).unwrap();

        let issued = ca.issue_server_pem(&ServerNames::localhost()).unwrap();

        assert!(issued.key_pem.contains("PRIVATE KEY"));
        assert!(!format!("{issued:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_ca_without_its_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        FleetCa::open_or_create(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join("ca-key.pem")).unwrap();

        let error = FleetCa::open_or_create(dir.path()).unwrap_err();

        assert!(error.to_string().contains("ca-key.pem"), "{error}");
    }

    #[test]
    fn an_issued_server_cert_has_an_owner_only_key_and_points_at_the_ca() {
        let dir = tempfile::tempdir().unwrap();
        let ca = FleetCa::open_or_create(dir.path()).unwrap();

        let files = ca
            .issue_server_cert(
                &ServerNames::localhost(),
                &dir.path().join("s.pem"),
                &dir.path().join("s-key.pem"),
            )
            .unwrap();

        assert_eq!(files.ca, ca.cert_path());
        assert_eq!(mode(&files.key), 0o600);
        assert!(std::fs::read_to_string(&files.cert)
            .unwrap()
            .contains("BEGIN CERTIFICATE"));
    }
}
