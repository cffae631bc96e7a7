//! The node's identity at its site: an nkey kept beside the node's disk (`<disk>.identity`, owner-only). It is made
//! on the node, so its seed never travels; the site learns only the public key when the node joins with the
//! site's join token. The key is kept before the join is asked for, so a join whose answer was lost is asked again
//! with the same key (the site accepts the same key twice); `<disk>.identity.joined` marks the site's acceptance.
//! A reset of the node revokes it and the node joins again with a new one.

use anyhow::Context;
use fleet_trust::UserKey;
use std::path::{Path, PathBuf};

/// The node's nkey and where it is kept.
pub struct NodeIdentity {
    key: UserKey,
    path: PathBuf,
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("public_key", &self.key.public_key())
            .field("path", &self.path)
            .finish()
    }
}

impl NodeIdentity {
    /// Where the identity of the node whose disk image is `disk` is kept.
    pub fn path_beside(disk: &Path) -> PathBuf {
        PathBuf::from(format!("{}.identity", disk.display()))
    }

    /// True once the node whose disk image is `disk` has joined its site (the site answered its join).
    pub fn joined_beside(disk: &Path) -> bool {
        PathBuf::from(format!("{}.joined", Self::path_beside(disk).display())).exists()
    }

    /// The identity kept at `path`, if the node has one.
    pub fn load(path: &Path) -> anyhow::Result<Option<Self>> {
        if !path.exists() {
            return Ok(None);
        }
        let key =
            UserKey::read_seed_file(path).with_context(|| format!("reading the node identity {}", path.display()))?;
        Ok(Some(Self {
            key,
            path: path.to_path_buf(),
        }))
    }

    /// A new identity, to be kept at `path` (before the join is asked for).
    pub fn generate(path: &Path) -> Self {
        Self {
            key: UserKey::generate(),
            path: path.to_path_buf(),
        }
    }

    /// Keeps the identity (owner-only file).
    pub fn save(&self) -> anyhow::Result<()> {
        self.key
            .write_seed_file(&self.path)
            .with_context(|| format!("keeping the node identity at {}", self.path.display()))
    }

    /// True once the site accepted this identity.
    pub fn joined(&self) -> bool {
        self.joined_marker().exists()
    }

    /// Records that the site accepted this identity.
    pub fn mark_joined(&self) -> anyhow::Result<()> {
        let marker = self.joined_marker();
        std::fs::write(&marker, self.public_key()).with_context(|| format!("writing {}", marker.display()))
    }

    /// Forgets the identity (after the site revoked it).
    pub fn forget(self) -> anyhow::Result<()> {
        for path in [self.joined_marker(), self.path.clone()] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
        }
        Ok(())
    }

    fn joined_marker(&self) -> PathBuf {
        PathBuf::from(format!("{}.joined", self.path.display()))
    }

    /// The public key the site knows the node by.
    pub fn public_key(&self) -> String {
        self.key.public_key()
    }

    /// The seed, for connecting.
    pub(super) fn seed(&self) -> String {
        self.key.seed()
    }
}
