//! [`SiteBundle`]: what a site's own nats-server needs from the hub, handed out when the site is added or rotated:
//! its leaf credentials, the CA bundle to trust the hub with, and its own server certificate from the fleet CA.
//!
//! On disk, one directory ([`SiteBundlePaths`]): `site` (the site id), `leaf.creds` (0600), `hub-ca.pem`,
//! `site-ca.pem`, `site.pem`, `site-key.pem` (0600). A bundle is written into a new or empty directory only, so an
//! older bundle is never half overwritten. `Debug` never shows a seed or private key.

use std::fmt;
use std::path::{Path, PathBuf};

use events::Token;

use crate::atomic_file::{write_atomically, FileAccess};
use crate::error::{io_error, TrustError};
use crate::trust_root::create_private_dir;
use crate::user_creds::UserCreds;

/// A site's credentials and certificates.
pub struct SiteBundle {
    /// The site.
    pub site: Token,
    /// The leaf remote's `credentials` (the site's leaf user in its account at the hub): a secret.
    pub leaf_creds: UserCreds,
    /// The CA bundle the leaf remote trusts the hub's certificate with (`D/ca.pem` when issued).
    pub hub_ca_pem: String,
    /// The fleet CA that issued `site_cert_pem` (plus the next CA during a CA rotation): what the site's own
    /// clients trust.
    pub site_ca_pem: String,
    /// The site server's certificate, valid for the names given and localhost.
    pub site_cert_pem: String,
    /// Its private key: a secret.
    pub site_key_pem: String,
    /// The public nkey of the site's local reader: who may read the site's log lines at the site while the hub is
    /// away (`crate::local_reader_permissions`). `None` in a bundle issued before local readers existed.
    pub local_reader_public_key: Option<String>,
    /// Its seed, for the operators (`edgefleet logs --site-nats … --reader-key FILE`): a secret, though one that
    /// grants nothing the site's machine does not hold already. `None` when read back without it.
    pub local_reader_seed: Option<String>,
}

/// The files of a bundle in directory `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteBundlePaths {
    dir: PathBuf,
}

impl SiteBundlePaths {
    /// The bundle files in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The bundle's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The site id.
    pub fn site(&self) -> PathBuf {
        self.dir.join("site")
    }

    /// The leaf remote's credentials (0600).
    pub fn leaf_creds(&self) -> PathBuf {
        self.dir.join("leaf.creds")
    }

    /// The CA bundle the leaf remote trusts (its `tls { ca_file }`).
    pub fn hub_ca(&self) -> PathBuf {
        self.dir.join("hub-ca.pem")
    }

    /// The CA the site's own clients trust.
    pub fn site_ca(&self) -> PathBuf {
        self.dir.join("site-ca.pem")
    }

    /// The site server's certificate.
    pub fn site_cert(&self) -> PathBuf {
        self.dir.join("site.pem")
    }

    /// The site server's private key (0600).
    pub fn site_key(&self) -> PathBuf {
        self.dir.join("site-key.pem")
    }

    /// The local reader's public nkey, which the site lets in.
    pub fn local_reader_public_key(&self) -> PathBuf {
        self.dir.join("local-reader.pub")
    }

    /// The local reader's seed (0600), for the operators.
    pub fn local_reader_seed(&self) -> PathBuf {
        self.dir.join("local-reader.nk")
    }
}

impl SiteBundle {
    /// Writes the bundle into `dir` (created owner-only if missing); refuses a directory that is not empty.
    pub fn write(&self, dir: &Path) -> Result<SiteBundlePaths, TrustError> {
        let occupied = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_some(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
            Err(error) => return Err(io_error("read directory", dir)(error)),
        };
        if occupied {
            return Err(TrustError::BundleDirNotEmpty { dir: dir.to_owned() });
        }
        create_private_dir(dir)?;
        let paths = SiteBundlePaths::new(dir);
        let public = [
            (paths.site(), format!("{}\n", self.site)),
            (paths.hub_ca(), self.hub_ca_pem.clone()),
            (paths.site_ca(), self.site_ca_pem.clone()),
            (paths.site_cert(), self.site_cert_pem.clone()),
        ];
        for (path, text) in public {
            write_atomically(&path, text.as_bytes(), FileAccess::WorldReadable).map_err(io_error("write", &path))?;
        }
        self.leaf_creds.write(&paths.leaf_creds())?;
        let key = paths.site_key();
        write_atomically(&key, self.site_key_pem.as_bytes(), FileAccess::OwnerOnly).map_err(io_error("write", &key))?;
        if let Some(public_key) = &self.local_reader_public_key {
            let path = paths.local_reader_public_key();
            write_atomically(&path, format!("{public_key}\n").as_bytes(), FileAccess::WorldReadable)
                .map_err(io_error("write", &path))?;
        }
        if let Some(seed) = &self.local_reader_seed {
            let path = paths.local_reader_seed();
            write_atomically(&path, format!("{seed}\n").as_bytes(), FileAccess::OwnerOnly)
                .map_err(io_error("write", &path))?;
        }
        Ok(paths)
    }

    /// Reads the bundle in `dir`.
    pub fn read(dir: &Path) -> Result<Self, TrustError> {
        let paths = SiteBundlePaths::new(dir);
        let read = |path: PathBuf| std::fs::read_to_string(&path).map_err(io_error("read", &path));
        let site_path = paths.site();
        let site = Token::new(read(site_path.clone())?.trim()).map_err(|error| TrustError::Record {
            path: site_path,
            reason: error.to_string(),
        })?;
        Ok(Self {
            site,
            leaf_creds: UserCreds::read(&paths.leaf_creds())?,
            hub_ca_pem: read(paths.hub_ca())?,
            site_ca_pem: read(paths.site_ca())?,
            site_cert_pem: read(paths.site_cert())?,
            site_key_pem: read(paths.site_key())?,
            local_reader_public_key: read_if_present(&paths.local_reader_public_key())?,
            local_reader_seed: read_if_present(&paths.local_reader_seed())?,
        })
    }
}

/// The trimmed text of `path`, or `None` if there is no such file.
fn read_if_present(path: &Path) -> Result<Option<String>, TrustError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error("read", path)(error)),
    }
}

impl fmt::Debug for SiteBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteBundle")
            .field("site", &self.site)
            .field("leaf_creds", &self.leaf_creds)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::nkey::AccountKey;
    use crate::test_files::mode;
    use crate::user_claims::UserClaims;
    use crate::user_permissions::UserPermissions;

    fn bundle() -> SiteBundle {
        let creds = UserCreds::issue(
            &AccountKey::generate(),
            "a-leaf",
            &UserClaims::new(UserPermissions::default(), &[]),
            None,
        )
        .unwrap();
        SiteBundle {
            site: Token::new("a").unwrap(),
            leaf_creds: creds,
            hub_ca_pem: "hub ca".to_owned(),
            site_ca_pem: "site ca".to_owned(),
            site_cert_pem: "site cert".to_owned(),
            site_key_pem: "-----BEGIN PRIVATE KEY-----".to_owned(),
            local_reader_public_key: Some("UREADER".to_owned()),
            local_reader_seed: Some("SUREADER".to_owned()),
        }
    }

    #[test]
    fn a_bundle_reads_back_with_its_secrets_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let written = bundle();

        let paths = written.write(&dir.path().join("a")).unwrap();
        let read = SiteBundle::read(paths.dir()).unwrap();

        assert_eq!(read.site, written.site);
        assert_eq!(read.leaf_creds.jwt(), written.leaf_creds.jwt());
        assert_eq!(
            (
                read.hub_ca_pem.as_str(),
                read.site_ca_pem.as_str(),
                read.site_cert_pem.as_str()
            ),
            ("hub ca", "site ca", "site cert")
        );
        assert_eq!(read.site_key_pem, written.site_key_pem);
        assert_eq!(read.local_reader_public_key.as_deref(), Some("UREADER"));
        assert_eq!(read.local_reader_seed.as_deref(), Some("SUREADER"));
        assert_eq!(mode(&paths.local_reader_seed()), 0o600);
        assert_eq!(mode(&paths.leaf_creds()), 0o600);
        assert_eq!(mode(&paths.site_key()), 0o600);
        assert_eq!(mode(paths.dir()), 0o700);
    }

    #[test]
    fn a_bundle_never_overwrites_files() {
        let dir = tempfile::tempdir().unwrap();
        bundle().write(dir.path()).unwrap();

        let error = bundle().write(dir.path()).unwrap_err();

        assert!(matches!(error, TrustError::BundleDirNotEmpty { .. }), "{error}");
    }

    #[test]
    fn debug_shows_neither_seed_nor_key() {
        let bundle = bundle();

        let shown = format!("{bundle:?}");

        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        let creds_text = bundle.leaf_creds.to_creds_text();
        let seed = creds_text.lines().find(|line| line.starts_with("SU")).unwrap();
        assert!(!shown.contains(seed), "{shown}");
        assert!(shown.contains(&bundle.leaf_creds.user_public_key()), "{shown}");
    }
}
