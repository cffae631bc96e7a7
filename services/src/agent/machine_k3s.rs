//! The agent's half of the k3s runtime: what the site assigns this machine's Kubernetes (a [`RuntimeAssignment`] in
//! every heartbeat reply) rendered with `k3s-render`, applied under `--k3s-root`, and `k3s server|agent` run as a
//! child of the agent from the configured `--k3s-binary`; what runs is reported back ([`RuntimeReport`]).
//!
//! - **How it joins is kept.** The way the machine joined its cluster (first server, or through which server) is
//!   recorded beside the disk and kept while the membership stays the same: k3s reads `server:` only on its first
//!   start, and a first server told to join another would split the cluster.
//! - **Restarts only when needed.** HelmChart changes (a profile upgrade) are written without restarting k3s (its
//!   deploy controller watches the manifests); a changed config or command line restarts it; a k3s that exited is
//!   started again at the next heartbeat.
//! - **Leaving.** No assignment, or another cluster or server/agent role: k3s is stopped and the files edgefleet wrote
//!   are removed. k3s' own data directory is left (see `k3s-render`'s "not handled").
//! - **Apps** placed on the cluster are rendered on servers as manifests (`k3s-render`'s `app_manifest`); an app
//!   that does not render is reported with its reason and left out, the others run.
//! - **Refusals are reported**, never panicked on: no binary configured, a binary of another k3s version than the
//!   profile's (k3s does not upgrade itself), a profile `k3s-render` refuses, no join token to derive the cluster's
//!   token from. The site records the reason as the node's failure.

use crate::agent_protocol::{RuntimeAssignment, RuntimeFailure, RuntimeInstalled, RuntimeReport};
use actors::plan::ClusterJoin;
use events::app::AppRef;
use events::node::NodeRole;
use events::Token;
use k3s_render::{K3sApp, K3sBinary, K3sNode, K3sProfile, K3sRole};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use tokio::process::{Child, Command};

/// Where the cluster token is written for k3s (`token-file`), under the root.
pub const TOKEN_FILE: &str = "/var/lib/edgefleet/k3s/token";
/// Longest failure reason reported.
const REASON_MAX: usize = 400;

/// What this machine joined, kept beside the disk (`<disk>.k3s.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Joined {
    cluster: Token,
    role: NodeRole,
    k3s_role: K3sRole,
    profile: events::cluster::ProfileRef,
    #[serde(default)]
    apps: BTreeMap<Token, AppRef>,
}

/// How the agent runs k3s on this machine.
pub struct MachineK3s {
    node: Token,
    binary: Option<K3sBinary>,
    root: PathBuf,
    address: Option<IpAddr>,
    join_token: Option<PathBuf>,
    record: PathBuf,
    log: PathBuf,
    joined: Option<Joined>,
    child: Option<Child>,
    failure: Option<RuntimeFailure>,
    app_failures: BTreeMap<Token, String>,
}

impl MachineK3s {
    /// The k3s of `node`, run from `binary` (none configured: every assignment is refused with the reason), its files
    /// under `root`, the cluster token derived from the site's `join_token` file, its record and log beside `disk`.
    pub fn new(
        node: Token,
        binary: Option<PathBuf>,
        root: PathBuf,
        address: Option<IpAddr>,
        join_token: Option<PathBuf>,
        disk: &Path,
    ) -> Self {
        let record = PathBuf::from(format!("{}.k3s.json", disk.display()));
        let joined = std::fs::read(&record)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        Self {
            node,
            binary: binary.map(|path| K3sBinary { path }),
            root,
            address,
            join_token,
            record,
            log: PathBuf::from(format!("{}.k3s.log", disk.display())),
            joined,
            child: None,
            failure: None,
            app_failures: BTreeMap::new(),
        }
    }

    /// What runs, for the heartbeat.
    pub fn report(&mut self) -> RuntimeReport {
        let running = self.running();
        RuntimeReport {
            installed: self.joined.as_ref().filter(|_| running).map(|j| RuntimeInstalled {
                cluster: j.cluster.clone(),
                role: j.role,
                profile: j.profile.clone(),
                apps: j.apps.clone(),
            }),
            failure: self.failure.clone(),
            app_failures: self.app_failures.clone(),
        }
    }

    /// The machine's address, reported so others can join its server.
    pub fn address(&self) -> Option<IpAddr> {
        self.address
    }

    fn running(&mut self) -> bool {
        match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(status))) => {
                tracing::warn!(node = %self.node, %status, log = %self.log.display(), "k3s exited; starting it again");
                self.child = None;
                false
            }
            Some(Err(e)) => {
                tracing::warn!(node = %self.node, error = %e, "cannot tell whether k3s runs");
                false
            }
            None => false,
        }
    }

    /// Carries out `assignment` (none: run nothing) of site `site`. Returns true if anything changed.
    pub async fn follow(&mut self, site: &Token, assignment: Option<&RuntimeAssignment>) -> bool {
        let Some(assignment) = assignment else {
            return self.leave().await;
        };
        let same_membership = self
            .joined
            .as_ref()
            .is_some_and(|j| j.cluster == assignment.cluster && j.role == assignment.role);
        if self.joined.is_some() && !same_membership {
            self.leave().await;
        }
        let k3s_role = match (&self.joined, &assignment.join, assignment.role) {
            (Some(joined), _, _) => joined.k3s_role.clone(),
            (None, ClusterJoin::Init, NodeRole::ControlPlane) => K3sRole::FirstServer,
            (None, ClusterJoin::Via { address, .. }, role) => {
                let server_url = k3s_render::server_url_for(*address);
                match role {
                    NodeRole::ControlPlane => K3sRole::JoiningServer { server_url },
                    NodeRole::Worker => K3sRole::Agent { server_url },
                }
            }
            (None, ClusterJoin::Init, NodeRole::Worker) => return false, // never: a worker does not initialise
            (None, ClusterJoin::Wait(why), _) => {
                tracing::debug!(node = %self.node, %why, "k3s waits");
                return false;
            }
        };
        let wanted_apps: BTreeMap<Token, AppRef> = assignment
            .apps
            .iter()
            .map(|a| (a.app.name.clone(), a.app.clone()))
            .collect();
        let apps_settled = |j: &Joined| {
            wanted_apps
                .iter()
                .all(|(name, app)| j.apps.get(name) == Some(app) || self.app_failures.contains_key(name))
                && j.apps.keys().all(|name| wanted_apps.contains_key(name))
        };
        let up_to_date = self
            .joined
            .as_ref()
            .is_some_and(|j| j.profile == assignment.profile && apps_settled(j))
            && self.running();
        if up_to_date {
            return false;
        }
        match self.apply(site, assignment, k3s_role).await {
            Ok(changed) => {
                self.failure = None;
                changed
            }
            Err(reason) => {
                let failure = RuntimeFailure {
                    cluster: assignment.cluster.clone(),
                    profile: assignment.profile.clone(),
                    reason: crate::api_types::error::sanitize(&reason, REASON_MAX),
                };
                let changed = self.failure.as_ref() != Some(&failure);
                if changed {
                    tracing::error!(node = %self.node, reason = %failure.reason, "k3s not applied");
                }
                self.failure = Some(failure);
                changed
            }
        }
    }

    /// Renders, writes and (re)starts k3s for `assignment` as `k3s_role`.
    async fn apply(&mut self, site: &Token, assignment: &RuntimeAssignment, k3s_role: K3sRole) -> Result<bool, String> {
        let binary = self.binary.clone().ok_or_else(|| {
            "this machine has no k3s binary configured: run its agent with --k3s-binary PATH (the k3s the OS image ships)"
                .to_string()
        })?;
        let Some(layers) = &assignment.layers else {
            // Not a failure: the profile's layers come from the hub, and a site formed offline waits for them.
            tracing::debug!(node = %self.node, profile = %assignment.profile, "k3s waits for the profile's layers from the hub");
            return Ok(false);
        };
        let checked = binary.clone();
        let wanted = layers.k8s.clone();
        tokio::task::spawn_blocking(move || checked.check_matches(&wanted))
            .await
            .map_err(|e| format!("checking the k3s binary: {e}"))?
            .map_err(|e| e.to_string())?;
        let join_token = self.join_token.as_ref().ok_or_else(|| {
            "no join token to derive the cluster's token from: give the agent the site's join token (--join-token)"
                .to_string()
        })?;
        let join_token = std::fs::read_to_string(join_token)
            .map_err(|e| format!("reading the join token {}: {e}", join_token.display()))?;
        let mut node = K3sNode {
            cluster: assignment.cluster.to_string(),
            node: self.node.to_string(),
            role: k3s_role.clone(),
            node_ip: self.address,
            advertise_address: self.address.filter(|_| k3s_role.is_server()),
            token_file: PathBuf::from(TOKEN_FILE),
            profile: K3sProfile::from(layers),
            node_labels: Default::default(),
            helm_repos: Default::default(),
            apps: vec![],
        };
        // The profile must render on its own; an app that does not is reported and left out, the others run.
        k3s_render::render(&node).map_err(|e| e.to_string())?;
        let mut app_failures = BTreeMap::new();
        let mut apps = BTreeMap::new();
        for assigned in &assignment.apps {
            let app = K3sApp {
                name: assigned.app.name.to_string(),
                release: assigned.release.clone(),
            };
            node.apps.push(app);
            match k3s_render::render(&node) {
                Ok(_) => {
                    apps.insert(assigned.app.name.clone(), assigned.app.clone());
                }
                Err(e) => {
                    node.apps.pop();
                    let reason = crate::api_types::error::sanitize(&e.to_string(), REASON_MAX);
                    app_failures.insert(assigned.app.name.clone(), reason);
                }
            }
        }
        let rendered = k3s_render::render(&node).map_err(|e| e.to_string())?;
        let token = fleet_trust::cluster_token(site, &assignment.cluster, &join_token);
        k3s_render::write_secret(&self.root, Path::new(TOKEN_FILE), &token).map_err(|e| e.to_string())?;
        let previous = k3s_render::load_applied(&self.root).map_err(|e| e.to_string())?;
        let plan = k3s_render::apply(&self.root, previous.as_ref(), &rendered).map_err(|e| e.to_string())?;
        let joined = Joined {
            cluster: assignment.cluster.clone(),
            role: assignment.role,
            k3s_role,
            profile: assignment.profile.clone(),
            apps,
        };
        self.app_failures = app_failures;
        self.save(Some(&joined))
            .map_err(|e| format!("recording what k3s runs in {}: {e}", self.record.display()))?;
        self.joined = Some(joined);
        if plan.restart || !self.running() {
            self.stop().await;
            self.start(&binary, &rendered.command)?;
        }
        println!(
            "agent {}: k3s {} for {} ({}): {} file(s) written, {} removed",
            self.node,
            rendered.command.first().map_or("?", String::as_str),
            assignment.cluster,
            assignment.profile,
            plan.write.len(),
            plan.remove.len()
        );
        Ok(true)
    }

    fn start(&mut self, binary: &K3sBinary, command: &[String]) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("opening k3s' log {}: {e}", self.log.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(&binary.path)
            .args(command)
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {} {}: {e}", binary.path.display(), command.join(" ")))?;
        tracing::info!(node = %self.node, pid = child.id(), "k3s started");
        self.child = Some(child);
        Ok(())
    }

    /// Stops k3s (SIGTERM, then SIGKILL after 10 s).
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if let Some(pid) = child.id() {
            // SAFETY: kill(2) on our own child's pid, which try_wait has not reaped.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
        if tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }

    /// Stops k3s and removes what edgefleet wrote for it. Returns true if anything was there.
    async fn leave(&mut self) -> bool {
        let had = self.joined.is_some() || self.child.is_some() || self.failure.is_some();
        self.stop().await;
        self.failure = None;
        self.app_failures.clear();
        if self.joined.is_none() {
            return had;
        }
        match k3s_render::unapply(&self.root, Path::new(TOKEN_FILE)) {
            Ok(removed) => println!(
                "agent {}: k3s stopped; {} file(s) edgefleet wrote removed",
                self.node,
                removed.len()
            ),
            Err(e) => tracing::error!(node = %self.node, error = %e, "could not remove k3s' files"),
        }
        if let Err(e) = self.save(None) {
            tracing::error!(node = %self.node, error = %e, "could not record that k3s runs nothing");
        }
        self.joined = None;
        true
    }

    fn save(&self, joined: Option<&Joined>) -> std::io::Result<()> {
        match joined {
            None => match std::fs::remove_file(&self.record) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Some(joined) => {
                let tmp = self.record.with_extension("json.tmp");
                std::fs::write(&tmp, serde_json::to_vec(joined).map_err(std::io::Error::other)?)?;
                std::fs::rename(&tmp, &self.record)
            }
        }
    }
}
