//! [`plan_apply`]: what going from the last applied [`Rendered`] to the next one takes — files to write, manifests
//! to remove, whether k3s must restart. A pure function over two values; [`crate::apply()`] carries it out.

use crate::config_yaml::CONFIG_PATH;
use crate::helm_chart::{MANIFESTS_DIR, MANIFEST_PREFIX};
use crate::render::Rendered;
use std::fmt;
use std::path::{Path, PathBuf};

/// What an update of one machine's k3s files takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyPlan {
    /// Files of the next rendering that are new or changed, in path order.
    pub write: Vec<PathBuf>,
    /// Manifests this crate wrote before that the next rendering no longer has, in path order. k3s' deploy
    /// controller deletes a removed manifest's HelmChart, and helm-controller then uninstalls the release.
    pub remove: Vec<PathBuf>,
    /// Whether k3s must be (re)started: its config or command line changed, or nothing was applied before.
    /// HelmChart changes need none: the deploy controller watches the manifests directory.
    pub restart: bool,
}

impl ApplyPlan {
    /// Whether the plan does nothing at all.
    pub fn is_empty(&self) -> bool {
        self.write.is_empty() && self.remove.is_empty() && !self.restart
    }
}

impl fmt::Display for ApplyPlan {
    /// One line per file to write or remove, then the restart decision: stable, for snapshots and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for path in &self.write {
            writeln!(f, "write  {}", path.display())?;
        }
        for path in &self.remove {
            writeln!(f, "remove {}", path.display())?;
        }
        writeln!(f, "restart k3s: {}", if self.restart { "yes" } else { "no" })
    }
}

/// Plans going from `previous` (what was last applied, if anything) to `next`.
///
/// Only manifests named `edgefleet-*.yaml` directly in k3s' manifests directory are ever removed, whatever
/// `previous` lists: a record read back from disk cannot make this crate delete anything else.
pub fn plan_apply(previous: Option<&Rendered>, next: &Rendered) -> ApplyPlan {
    let Some(previous) = previous else {
        return ApplyPlan {
            write: next.files.keys().cloned().collect(),
            remove: Vec::new(),
            restart: true,
        };
    };
    let write = next
        .files
        .iter()
        .filter(|&(path, contents)| previous.files.get(path) != Some(contents))
        .map(|(path, _)| path.clone())
        .collect();
    let remove = previous
        .files
        .keys()
        .filter(|path| !next.files.contains_key(*path) && is_owned_manifest(path))
        .cloned()
        .collect();
    let config = Path::new(CONFIG_PATH);
    let restart = previous.command != next.command || previous.files.get(config) != next.files.get(config);
    ApplyPlan { write, remove, restart }
}

/// Whether `path` is a manifest this crate writes: `<manifests dir>/edgefleet-<name>.yaml`.
pub fn is_owned_manifest(path: &Path) -> bool {
    let in_manifests_dir = path.parent() == Some(Path::new(MANIFESTS_DIR));
    let named_ours = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_prefix(MANIFEST_PREFIX))
        .and_then(|rest| rest.strip_suffix(".yaml"))
        .is_some_and(|release| !release.is_empty());
    in_manifests_dir && named_ours
}

#[cfg(test)]
mod tests {
    use super::is_owned_manifest;
    use std::path::Path;

    #[test]
    fn only_edgefleet_manifests_are_owned() {
        let owned = "/var/lib/rancher/k3s/server/manifests/edgefleet-pos.yaml";
        assert!(is_owned_manifest(Path::new(owned)));
        for not_owned in [
            "/var/lib/rancher/k3s/server/manifests/traefik.yaml",
            "/var/lib/rancher/k3s/server/manifests/edgefleet-.yaml",
            "/var/lib/rancher/k3s/server/manifests/edgefleet-pos.yml",
            "/var/lib/rancher/k3s/server/manifests/sub/edgefleet-pos.yaml",
            "/var/lib/rancher/k3s/server/manifests/../manifests/edgefleet-pos.yaml",
            "/etc/rancher/k3s/config.yaml",
            "/etc/edgefleet-pos.yaml",
        ] {
            assert!(!is_owned_manifest(Path::new(not_owned)), "{not_owned}");
        }
    }
}
