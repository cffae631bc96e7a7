//! The CA of a zero-touch site's NATS routes: the servers of one site check each other's routes (mutual TLS) with
//! certificates this CA issues.
//!
//! Why not the fleet CA: a route is dialled by the peer's LAN address, which DHCP gives and the hub never knew, so a
//! route certificate must name addresses only the machine knows when it starts. Every machine of a site boots the
//! same site image, whose join token is the site's shared secret; the route CA's key is derived from it (an Ed25519
//! seed: SHA-256 over a fixed label, the site id and the token), so each machine holds the same CA without the hub
//! and issues its own route certificate for its own addresses. Whoever holds the join token could already join the
//! site; nobody without it gets a route in.

use std::path::Path;

use events::Token;
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::atomic_file::{write_atomically, FileAccess};
use crate::error::{io_error, TrustError};
use crate::fleet_ca::{certificate_error, distinguished_name, IssuedCert, ServerNames};
use crate::tls_files::TlsFiles;

/// PKCS#8 v1 prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// How long a route certificate is valid; a new one is issued at every start.
const ROUTE_CERT_VALIDITY_DAYS: i64 = 825;
/// Valid from this long before now, for a peer whose clock runs behind.
const CLOCK_SKEW_ALLOWANCE_S: i64 = 3_600;

/// A site's route CA, derived from its join token.
pub struct SiteRouteCa {
    site: Token,
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl SiteRouteCa {
    /// The route CA of `site` whose machines share `join_token`: the same on every machine.
    pub fn derive(site: &Token, join_token: &str) -> Result<Self, TrustError> {
        let mut hash = Sha256::new();
        hash.update(b"edgefleet site route CA\0");
        hash.update(site.as_str().as_bytes());
        hash.update(b"\0");
        hash.update(join_token.as_bytes());
        let seed = hash.finalize();
        let mut pkcs8 = ED25519_PKCS8_PREFIX.to_vec();
        pkcs8.extend_from_slice(&seed);
        let key = KeyPair::try_from(pkcs8.as_slice()).map_err(|e| certificate_error("route CA key", e))?;
        let params = ca_params(site);
        let cert = params.self_signed(&key).map_err(|e| certificate_error("route CA", e))?;
        Ok(Self {
            site: site.clone(),
            issuer: Issuer::new(params, key),
            cert_pem: cert.pem(),
        })
    }

    /// Issues this machine's route certificate for `names` (valid for server and client authentication) and writes
    /// `route-ca.pem`, `route.pem` and `route-key.pem` (owner-only) into `dir`.
    pub fn issue_into(&self, dir: &Path, names: &ServerNames) -> Result<TlsFiles, TrustError> {
        std::fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        let common_name = format!("edgefleet route of site {}", self.site);
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(&common_name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::seconds(CLOCK_SKEW_ALLOWANCE_S);
        params.not_after = now + Duration::days(ROUTE_CERT_VALIDITY_DAYS);
        let mut sans = Vec::new();
        for name in &names.dns_names {
            let dns = name
                .clone()
                .try_into()
                .map_err(|e| certificate_error(&format!("DNS name {name:?}"), e))?;
            sans.push(SanType::DnsName(dns));
        }
        sans.extend(names.ip_addresses.iter().map(|ip| SanType::IpAddress(*ip)));
        params.subject_alt_names = sans;
        let key = KeyPair::generate().map_err(|e| certificate_error("route key", e))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| certificate_error(&common_name, e))?;
        let files = TlsFiles {
            cert: dir.join("route.pem"),
            key: dir.join("route-key.pem"),
            ca: dir.join("route-ca.pem"),
        };
        let issued = IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        };
        issued.write(&files.cert, &files.key)?;
        write_atomically(&files.ca, self.cert_pem.as_bytes(), FileAccess::WorldReadable)
            .map_err(io_error("write", &files.ca))?;
        Ok(files)
    }
}

/// The CA's parameters: the same on every machine, so certificates one issued chain to the CA another holds.
fn ca_params(site: &Token) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(&format!("edgefleet route CA of site {site}"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::seconds(CLOCK_SKEW_ALLOWANCE_S);
    params.not_after = now + Duration::days(20 * 365);
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Token {
        Token::new("store-1").expect("token")
    }

    #[test]
    fn every_machine_derives_the_same_ca_key_and_another_token_another() {
        let one = SiteRouteCa::derive(&site(), "a-join-token-of-the-site").expect("derive");
        let two = SiteRouteCa::derive(&site(), "a-join-token-of-the-site").expect("derive");
        let other = SiteRouteCa::derive(&site(), "another-join-token-entirely").expect("derive");
        let other_site =
            SiteRouteCa::derive(&Token::new("store-2").expect("token"), "a-join-token-of-the-site").expect("derive");
        let key = |ca: &SiteRouteCa| ca.issuer.key().public_key_raw().to_vec();
        assert_eq!(key(&one), key(&two));
        assert_ne!(key(&one), key(&other));
        assert_ne!(key(&one), key(&other_site));
    }

    #[test]
    fn a_route_certificate_is_written_with_its_ca_and_an_owner_only_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = SiteRouteCa::derive(&site(), "a-join-token-of-the-site").expect("derive");
        let names = ServerNames {
            dns_names: vec!["store-1.site.edgefleet".into()],
            ip_addresses: vec!["10.77.0.2".parse().expect("ip")],
        };
        let files = ca.issue_into(dir.path(), &names).expect("issue");
        let cert = std::fs::read_to_string(&files.cert).expect("cert");
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        let ca_pem = std::fs::read_to_string(&files.ca).expect("ca");
        assert!(ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.key).expect("key").permissions().mode();
            assert_eq!(mode & 0o077, 0, "key readable by others: {mode:o}");
        }
    }
}
