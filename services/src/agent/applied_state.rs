//! What the agent has applied, kept next to its disk image so a restarted agent knows it.

use crate::agent_protocol::AgentMembership;
use std::path::{Path, PathBuf};

/// The membership the node runs, persisted in `<disk>.applied.json`.
pub struct AppliedState {
    path: PathBuf,
    membership: Option<AgentMembership>,
}

impl AppliedState {
    /// Loads the state beside `disk` (a missing or unreadable file means nothing applied yet).
    pub fn load(disk: &Path) -> Self {
        let path = PathBuf::from(format!("{}.applied.json", disk.display()));
        let membership = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .flatten();
        Self { path, membership }
    }

    /// The applied membership.
    pub fn membership(&self) -> Option<&AgentMembership> {
        self.membership.as_ref()
    }

    /// Applies and persists a new membership (write to a temp file, then rename).
    pub fn apply(&mut self, membership: Option<AgentMembership>) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(&membership).unwrap_or_default())?;
        std::fs::rename(&tmp, &self.path)?;
        self.membership = membership;
        Ok(())
    }

    /// `cluster/role`, or `none`.
    pub fn describe(&self) -> String {
        match &self.membership {
            Some(m) => format!("{}/{}", m.cluster, m.role.as_str()),
            None => "none".into(),
        }
    }
}
