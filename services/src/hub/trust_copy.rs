//! Joining another hub's fleet (`edgefleet hub --trust-from DIR`): on the first start, the trust root of the hub
//! in `DIR` is copied into this hub's data dir, so every hub of a cluster shares one operator, one set of accounts
//! and one fleet CA. What belongs to one server only is left behind: its account resolver (each server keeps its
//! own, kept in step through the cluster) and its certificates (each hub issues its own at every start).

use anyhow::Context;
use fleet_trust::TrustLayout;
use std::path::Path;

/// Copies the trust root of the hub whose data dir is `from` into `data_dir`, unless `data_dir` already has one.
/// Returns true if it copied.
pub fn copy_trust_root(from: &Path, data_dir: &Path) -> anyhow::Result<bool> {
    let (source, target) = (TrustLayout::new(from), TrustLayout::new(data_dir));
    if target.trust_dir().exists() {
        return Ok(false);
    }
    anyhow::ensure!(
        source.operator_seed().is_file(),
        "--trust-from {}: no trust root there (expected {})",
        from.display(),
        source.operator_seed().display()
    );
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    // Into a staging dir first: a copy cut short must not look like a trust root at the next start.
    let staging = data_dir.join(".trust-copy");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))?;
    }
    copy_dir(&source.trust_dir(), &staging, &|relative| shared(relative))?;
    for handout in [source.ca_bundle(), source.admin_creds()] {
        let name = handout.file_name().context("a handout without a name")?;
        copy_file(&handout, &data_dir.join(name))?;
    }
    std::fs::rename(&staging, target.trust_dir())
        .with_context(|| format!("moving the copied trust root into {}", target.trust_dir().display()))?;
    Ok(true)
}

/// True if the file at `relative` (under `trust/`) is shared by every hub of a fleet.
pub fn shared(relative: &Path) -> bool {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    match first.as_deref() {
        Some("resolver") => false,
        Some("tls") => {
            let name = relative
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.starts_with("ca") || name.starts_with("next-ca")
        }
        _ => true,
    }
}

fn copy_dir(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) -> anyhow::Result<()> {
    let mut pending = vec![std::path::PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = to.join(&relative);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        set_owner_only(&dir, 0o700)?;
        let entries = std::fs::read_dir(from.join(&relative)).with_context(|| format!("reading {}", from.display()))?;
        for entry in entries {
            let entry = entry?;
            let child = relative.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                if child.as_os_str() != "resolver" {
                    pending.push(child);
                }
            } else if keep(&child) {
                copy_file(&from.join(&child), &to.join(&child))?;
            }
        }
    }
    Ok(())
}

/// Copies one file, keeping its permissions (seeds and credentials stay owner-only).
fn copy_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn set_owner_only(dir: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the permissions of {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_and_server_certificates_stay_with_their_server_and_the_rest_is_shared() {
        assert!(!shared(Path::new("resolver/ABC.jwt")));
        assert!(!shared(Path::new("tls/server.pem")));
        assert!(!shared(Path::new("tls/route-key.pem")));
        assert!(shared(Path::new("tls/ca.pem")));
        assert!(shared(Path::new("tls/ca-key.pem")));
        assert!(shared(Path::new("operator.nk")));
        assert!(shared(Path::new("sites/s1/hub.creds")));
    }

    #[test]
    fn a_joining_hub_gets_the_trust_root_once_and_without_the_servers_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        let root = fleet_trust::TrustRoot::open_or_create(&first).unwrap();
        root.issue_hub_server_cert(&fleet_trust::ServerNames::localhost())
            .unwrap();

        assert!(copy_trust_root(&first, &second).unwrap());
        let joined = fleet_trust::TrustRoot::open_or_create(&second).unwrap();

        assert_eq!(joined.operator_public_key(), root.operator_public_key());
        assert_eq!(joined.hub_account_public_key(), root.hub_account_public_key());
        assert_eq!(
            std::fs::read(second.join("ca.pem")).unwrap(),
            std::fs::read(first.join("ca.pem")).unwrap()
        );
        assert!(!second.join("trust/tls/server.pem").exists());
        assert!(!copy_trust_root(&first, &second).unwrap(), "copied only once");
    }

    #[test]
    fn a_dir_without_a_trust_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = copy_trust_root(dir.path(), &dir.path().join("b")).unwrap_err();
        assert!(format!("{error:#}").contains("no trust root there"), "{error:#}");
    }
}
