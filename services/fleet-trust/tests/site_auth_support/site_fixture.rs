//! A site with two joined nodes (`n1`, `n2`) and its own running server, and clients of each of its users (and of
//! the unrestricted `NODES` probe, when the server has one).

use std::time::Duration;

use async_nats::{Client, ConnectError, ConnectOptions};
use events::Token;
use fleet_trust::{node_inbox_prefix, JoinedNode, SiteServerAuth, UserKey, JOIN_INBOX_PREFIX, JOIN_USER};

use super::site_clients::{connect_watched, Watched};
use super::site_server::SiteServer;

/// The join password of every test site: quotes, backslashes, spaces, `$`, `#`, braces and `;` must all reach the
/// server as they are.
pub const JOIN_PASSWORD: &str = r#"a "quoted" \back\slash $HOME #not-a-comment {x}; 'y'"#;

/// The nodes that have joined a test site.
pub const NODES: [&str; 2] = ["n1", "n2"];

/// A running site server and the keys of its users.
pub struct SiteFixture {
    /// The site id (`s1`).
    pub site: Token,
    /// The site process's key.
    pub process: UserKey,
    /// Each joined node's id and key.
    pub nodes: Vec<(Token, UserKey)>,
    /// The key of a user of `NODES` without permission rules (in the config only if started with one).
    pub probe: UserKey,
    /// The server.
    pub server: SiteServer,
}

impl SiteFixture {
    /// Site `s1` with nodes `n1` and `n2`, its server started with `extra` config lines.
    pub async fn start(extra: &str) -> Self {
        Self::start_with(extra, false).await
    }

    /// Site `s1` with nodes `n1` and `n2` and an unrestricted user of `NODES` (the probe), which the rendering never
    /// makes: to test the account boundary alone.
    pub async fn start_with_nodes_probe() -> Self {
        Self::start_with("", true).await
    }

    async fn start_with(extra: &str, with_probe: bool) -> Self {
        let site = Token::new("s1").expect("site id");
        let process = UserKey::generate();
        let nodes: Vec<(Token, UserKey)> = NODES
            .iter()
            .map(|node| (Token::new(*node).expect("node id"), UserKey::generate()))
            .collect();
        let auth = auth_for(&site, &process, nodes.iter());
        let probe = UserKey::generate();
        let in_config = with_probe.then(|| probe.public_key());
        let server = SiteServer::start(&auth, &process.seed(), extra, in_config).await;
        Self {
            site,
            process,
            nodes,
            probe,
            server,
        }
    }

    /// The auth of this site with only the nodes in `joined`.
    pub fn auth_with(&self, joined: &[&str]) -> SiteServerAuth {
        auth_for(
            &self.site,
            &self.process,
            self.nodes.iter().filter(|(node, _)| joined.contains(&node.as_str())),
        )
    }

    /// A client of the site process (may do anything).
    pub async fn process_client(&self) -> Client {
        ConnectOptions::with_nkey(self.process.seed())
            .connection_timeout(Duration::from_secs(2))
            .request_timeout(Some(Duration::from_secs(2)))
            .connect(&self.server.url)
            .await
            .expect("connect as the site process")
    }

    /// A watched client of the join user presenting `password`, with the join inbox prefix.
    pub async fn join_client(&self, password: &str) -> Result<Watched, ConnectError> {
        let options = ConnectOptions::with_user_and_password(JOIN_USER.to_owned(), password.to_owned())
            .custom_inbox_prefix(JOIN_INBOX_PREFIX)
            .name("join");
        connect_watched(&self.server.url, options).await
    }

    /// A watched client of the probe (no inbox prefix of its own, named `probe`).
    pub async fn probe_client(&self) -> Result<Watched, ConnectError> {
        let options = ConnectOptions::with_nkey(self.probe.seed()).name("probe");
        connect_watched(&self.server.url, options).await
    }

    /// A watched client of node `node` (with its inbox prefix, named `node-<id>` in the server's log).
    pub async fn node_client(&self, node: &str) -> Result<Watched, ConnectError> {
        let (id, key) = self
            .nodes
            .iter()
            .find(|(id, _)| id.as_str() == node)
            .unwrap_or_else(|| panic!("no node {node} in the fixture"));
        let options = ConnectOptions::with_nkey(key.seed())
            .custom_inbox_prefix(node_inbox_prefix(id))
            .name(format!("node-{node}"));
        connect_watched(&self.server.url, options).await
    }
}

fn auth_for<'a>(site: &Token, process: &UserKey, nodes: impl Iterator<Item = &'a (Token, UserKey)>) -> SiteServerAuth {
    SiteServerAuth {
        site: site.clone(),
        process_user: process.public_key(),
        join_password: JOIN_PASSWORD.to_owned(),
        nodes: nodes
            .map(|(node, key)| JoinedNode {
                node: node.clone(),
                public_key: key.public_key(),
            })
            .collect(),
        local_readers: Vec::new(),
        system_password: None,
    }
}
