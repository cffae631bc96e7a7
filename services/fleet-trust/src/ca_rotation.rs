//! Rotating the fleet CA in two steps, with the CA bundle (`D/ca.pem`) as the handover:
//!
//! 1. [`TrustRoot::begin_ca_rotation`] creates the next CA (`trust/tls/next-ca.pem`, `next-ca-key.pem`) and makes
//!    the bundle *current + next*. Servers keep presenting current-CA certificates; every client, site bundle and
//!    site server that picks up the bundle now trusts both.
//! 2. [`TrustRoot::complete_ca_rotation`] makes the next CA current (server and site certificates are issued from
//!    it from then on; the old CA's key is gone) and the bundle *new only*. No grace period after completion: the
//!    window between the two steps is the grace period, and keeping the old CA trusted afterwards would defeat a
//!    rotation made because the old key leaked. Re-issue the hub's server certificate and reload the hub right
//!    after completing; re-issue every site's bundle ([`TrustRoot::rotate_site`]) between the two steps, so each
//!    site's leaf remote trusts the new CA before the hub presents it.
//!
//! Each step is resumable after a crash: completion moves the next key first and the next certificate second, so a
//! next certificate without its key means "completion interrupted", which the next start finishes
//! ([`open_current_ca`]); a next key without its certificate means "begin interrupted" (nothing was ever issued or
//! trusted from it), which the next begin starts over.

use std::path::Path;

use crate::atomic_file::{write_atomically, FileAccess};
use crate::error::{io_error, TrustError};
use crate::fleet_ca::FleetCa;
use crate::trust_layout::TrustLayout;
use crate::trust_root::TrustRoot;

impl TrustRoot {
    /// Starts a CA rotation: creates the next CA and makes the CA bundle current + next. Does nothing more if a
    /// rotation is in progress.
    pub fn begin_ca_rotation(&self) -> Result<(), TrustError> {
        let (cert, key) = (self.layout.next_ca_cert(), self.layout.next_ca_key());
        if key.exists() && !cert.exists() {
            // An interrupted begin: no certificate of this key was ever written, so nobody trusts it.
            std::fs::remove_file(&key).map_err(io_error("remove", &key))?;
        }
        FleetCa::open_or_create_at(cert, &key)?;
        write_ca_bundle(&self.layout)
    }

    /// True between [`TrustRoot::begin_ca_rotation`] and [`TrustRoot::complete_ca_rotation`].
    pub fn ca_rotation_in_progress(&self) -> bool {
        self.layout.next_ca_cert().exists() && self.layout.next_ca_key().exists()
    }

    /// Completes a CA rotation: the next CA becomes the current one (its key replaces the old CA's key) and the CA
    /// bundle holds the new CA only. Then re-issue the hub's server certificate and reload the hub.
    pub fn complete_ca_rotation(&mut self) -> Result<(), TrustError> {
        if !self.ca_rotation_in_progress() {
            return Err(TrustError::NoCaRotation);
        }
        rename(&self.layout.next_ca_key(), &self.layout.ca_key())?;
        rename(&self.layout.next_ca_cert(), &self.layout.ca_cert())?;
        self.ca = FleetCa::open_or_create_at(self.layout.ca_cert(), &self.layout.ca_key())?;
        write_ca_bundle(&self.layout)
    }

    /// The CA certificates a site's own clients trust: the current CA (which issues site certificates), plus the
    /// next one during a rotation, so they already trust the certificate of the site's next bundle.
    pub(crate) fn site_ca_pem(&self) -> Result<String, TrustError> {
        ca_bundle_pem(&self.layout)
    }
}

/// The current CA, after finishing a completion that was interrupted (see the module docs).
pub(crate) fn open_current_ca(layout: &TrustLayout) -> Result<FleetCa, TrustError> {
    let (next_cert, next_key, key) = (layout.next_ca_cert(), layout.next_ca_key(), layout.ca_key());
    if next_cert.exists() && !next_key.exists() && key.exists() {
        rename(&next_cert, &layout.ca_cert())?;
    }
    FleetCa::open_or_create_at(layout.ca_cert(), &key)
}

/// Writes the CA bundle (`D/ca.pem`): the current CA, plus the next one during a rotation.
pub(crate) fn write_ca_bundle(layout: &TrustLayout) -> Result<(), TrustError> {
    let path = layout.ca_bundle();
    write_atomically(&path, ca_bundle_pem(layout)?.as_bytes(), FileAccess::WorldReadable)
        .map_err(io_error("write", &path))
}

/// The current CA's certificate, then the next CA's during a rotation.
fn ca_bundle_pem(layout: &TrustLayout) -> Result<String, TrustError> {
    let read = |path: &Path| std::fs::read_to_string(path).map_err(io_error("read", path));
    let mut pem = read(&layout.ca_cert())?;
    if layout.next_ca_cert().exists() && layout.next_ca_key().exists() {
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        pem.push_str(&read(&layout.next_ca_cert())?);
    }
    Ok(pem)
}

fn rename(from: &Path, to: &Path) -> Result<(), TrustError> {
    std::fs::rename(from, to).map_err(io_error("rename", from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificates(pem: &str) -> usize {
        pem.matches("-----BEGIN CERTIFICATE-----").count()
    }

    #[test]
    fn the_bundle_holds_both_cas_during_a_rotation_and_the_new_one_after() {
        let dir = tempfile::tempdir().unwrap();
        let mut root = TrustRoot::open_or_create(dir.path()).unwrap();
        let bundle = root.layout().ca_bundle();
        let old = std::fs::read_to_string(root.layout().ca_cert()).unwrap();
        assert_eq!(std::fs::read_to_string(&bundle).unwrap(), old);

        root.begin_ca_rotation().unwrap();
        let during = std::fs::read_to_string(&bundle).unwrap();
        let next = std::fs::read_to_string(root.layout().next_ca_cert()).unwrap();
        root.begin_ca_rotation().unwrap();
        assert_eq!(
            std::fs::read_to_string(&bundle).unwrap(),
            during,
            "begin twice is begin once"
        );
        root.complete_ca_rotation().unwrap();

        assert_eq!(certificates(&during), 2);
        assert!(during.starts_with(&old) && during.ends_with(&next), "{during}");
        assert_eq!(std::fs::read_to_string(&bundle).unwrap(), next);
        assert_eq!(root.fleet_ca().cert_pem().unwrap(), next);
        assert!(!root.ca_rotation_in_progress());
        assert!(matches!(root.complete_ca_rotation(), Err(TrustError::NoCaRotation)));
    }

    #[test]
    fn an_interrupted_completion_is_finished_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let root = TrustRoot::open_or_create(dir.path()).unwrap();
        root.begin_ca_rotation().unwrap();
        let next = std::fs::read_to_string(root.layout().next_ca_cert()).unwrap();
        // Completion moved the key, then stopped.
        std::fs::rename(root.layout().next_ca_key(), root.layout().ca_key()).unwrap();

        let again = TrustRoot::open_or_create(dir.path()).unwrap();

        assert_eq!(again.fleet_ca().cert_pem().unwrap(), next);
        assert_eq!(std::fs::read_to_string(again.layout().ca_bundle()).unwrap(), next);
        assert!(!again.layout().next_ca_cert().exists());
    }

    #[test]
    fn an_interrupted_begin_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let root = TrustRoot::open_or_create(dir.path()).unwrap();
        std::fs::write(root.layout().next_ca_key(), "half a key").unwrap();

        root.begin_ca_rotation().unwrap();

        assert!(root.ca_rotation_in_progress());
        assert_eq!(
            certificates(&std::fs::read_to_string(root.layout().ca_bundle()).unwrap()),
            2
        );
    }
}
