//! Seed files: one nkey seed per file, owner-only (`0600`), read back into a key of the expected role.

use std::path::Path;

use crate::atomic_file::{write_atomically, FileAccess};
use crate::error::{io_error, TrustError};
use crate::nkey::{KeyRole, NatsKey};

impl<R: KeyRole> NatsKey<R> {
    /// Writes this key's seed to `path`, owner-only (`0600`), replacing the file atomically.
    pub fn write_seed_file(&self, path: &Path) -> Result<(), TrustError> {
        let mut text = self.seed();
        text.push('\n');
        write_atomically(path, text.as_bytes(), FileAccess::OwnerOnly).map_err(io_error("write", path))
    }

    /// Reads the key whose seed is in `path`; refused if it is another role's seed.
    pub fn read_seed_file(path: &Path) -> Result<Self, TrustError> {
        let text = std::fs::read_to_string(path).map_err(io_error("read", path))?;
        Self::from_seed(text.trim()).map_err(|source| TrustError::KeyFile {
            path: path.to_owned(),
            source,
        })
    }

    /// Reads the key in `path`, or generates one and writes it there if the file does not exist.
    pub fn read_or_create_seed_file(path: &Path) -> Result<Self, TrustError> {
        if path.exists() {
            return Self::read_seed_file(path);
        }
        let key = Self::generate();
        key.write_seed_file(path)?;
        Ok(key)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use crate::nkey::{AccountKey, OperatorKey};
    use crate::test_files::{mode, temp_path};

    #[test]
    fn a_seed_file_is_owner_only_and_reads_back_as_the_same_key() {
        let (_dir, path) = temp_path("operator.nk");

        let created = OperatorKey::read_or_create_seed_file(&path).unwrap();
        let loaded = OperatorKey::read_or_create_seed_file(&path).unwrap();

        assert_eq!(
            loaded.public_key(),
            created.public_key(),
            "a second start loads, never regenerates"
        );
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_seed_file_of_another_role_is_refused() {
        let (_dir, path) = temp_path("hub.nk");
        OperatorKey::generate().write_seed_file(&path).unwrap();

        let error = AccountKey::read_seed_file(&path).unwrap_err();

        assert!(error.to_string().contains("hub.nk"), "{error}");
    }
}
