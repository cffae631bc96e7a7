//! Who the site's nats-server lets in: the site process, the join user (password: the site's join token), the
//! local readers of its bundle, and one nkey user per node whose identity the site's log holds — a planner over the projection. When the set of node
//! identities changes (a node joined, a reset revoked one), the server's auth config is rendered again and
//! reloaded; a revoked node's connection is closed by the server. Nothing here is kept that a restart would need:
//! the set is read from the log.

use crate::server_supervisor::ServerControl;
use events::Token;
use fleet_trust::{JoinedNode, SiteServerAuth};
use replay::Projection;
use std::cell::RefCell;
use std::sync::Arc;

/// The node identities the server lets in, in order.
type NodeKeys = Vec<JoinedNode>;

/// The users of the site's nats-server that do not come from the log: fixed for the process's life.
#[derive(Clone)]
pub struct FixedUsers {
    /// The site process's public nkey.
    pub process_user: String,
    /// The join user's password.
    pub join_token: String,
    /// The local readers' public nkeys (from the site's bundle).
    pub local_readers: Vec<String>,
    /// The system user's password, on a clustered site's servers.
    pub system_password: Option<String>,
}

/// Keeps the site's nats-server's users in step with the log.
pub struct NodeAccess {
    site: Token,
    fixed: FixedUsers,
    projection: Arc<Projection>,
    server: ServerControl,
    applied: RefCell<Option<NodeKeys>>,
    applying: tokio::sync::Mutex<()>,
}

impl NodeAccess {
    /// Access for `site`, whose server was started with `initial` node keys.
    pub fn new(
        site: Token,
        fixed: FixedUsers,
        projection: Arc<Projection>,
        server: ServerControl,
        initial: NodeKeys,
    ) -> Self {
        Self {
            site,
            fixed,
            projection,
            server,
            applied: RefCell::new(Some(initial)),
            applying: tokio::sync::Mutex::new(()),
        }
    }

    /// The server's auth config for `nodes`.
    pub fn render(site: &Token, fixed: &FixedUsers, nodes: NodeKeys) -> anyhow::Result<String> {
        let auth = SiteServerAuth {
            site: site.clone(),
            process_user: fixed.process_user.clone(),
            join_password: fixed.join_token.clone(),
            nodes,
            local_readers: fixed.local_readers.clone(),
            system_password: fixed.system_password.clone(),
        };
        Ok(auth.render()?)
    }

    /// The node identities the log holds for this site.
    pub fn wanted(&self) -> NodeKeys {
        self.projection.read(|fleet| node_keys(fleet, &self.site))
    }

    /// Reloads the server if the log's node identities differ from what it runs with; returns once the server
    /// applied them.
    pub async fn sync(&self) -> anyhow::Result<()> {
        let _one_at_a_time = self.applying.lock().await;
        self.apply(self.wanted()).await
    }

    /// As [`Self::sync`], with `joined`'s key in even if the projection does not show it yet (a join just written
    /// while the projection lags: the node must get in at once, not when the projection catches up).
    pub async fn sync_including(&self, joined: JoinedNode) -> anyhow::Result<()> {
        let _one_at_a_time = self.applying.lock().await;
        let mut wanted = self.wanted();
        wanted.retain(|j| j.node != joined.node && j.public_key != joined.public_key);
        wanted.push(joined);
        wanted.sort_by(|a, b| a.node.cmp(&b.node));
        self.apply(wanted).await
    }

    async fn apply(&self, wanted: NodeKeys) -> anyhow::Result<()> {
        if self.applied.borrow().as_ref() == Some(&wanted) {
            return Ok(());
        }
        let config = Self::render(&self.site, &self.fixed, wanted.clone())?;
        self.server.reload_auth(config).await?;
        tracing::info!(site = %self.site, nodes = wanted.len(), "node identities applied to the site's nats-server");
        *self.applied.borrow_mut() = Some(wanted);
        Ok(())
    }
}

/// The node identities `fleet` holds for `site`. A key held by two nodes (joins are checked one at a time, so only
/// a log written some other way could hold one) lets neither in: the server could not tell them apart.
pub fn node_keys(fleet: &actors::fleet_state::FleetState, site: &Token) -> NodeKeys {
    let joined: NodeKeys = fleet
        .nodes_at(site)
        .filter_map(|(id, node)| {
            Some(JoinedNode {
                node: id.clone(),
                public_key: node.status.identity.clone()?,
            })
        })
        .collect();
    let shared = |key: &str| joined.iter().filter(|j| j.public_key == key).count() > 1;
    joined.iter().filter(|j| !shared(&j.public_key)).cloned().collect()
}

/// Applies changes until aborted.
pub async fn run(access: std::rc::Rc<NodeAccess>) {
    let mut changes = access.projection.changes();
    loop {
        if let Err(e) = access.sync().await {
            tracing::error!(error = %e, "node identities not applied to the site's nats-server; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}
