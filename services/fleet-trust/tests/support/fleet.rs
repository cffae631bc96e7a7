//! A fleet as the recipe runs it: an operator-mode hub with TLS on its client and leafnodes ports, and sites added
//! through the trust root (account pushed, bundle written, site server started from the bundle).

use std::path::PathBuf;

use events::Token;
use fleet_trust::{push_account_jwt, ServerNames, SiteBundle, SiteBundlePaths, TrustRoot};
use tempfile::TempDir;

use super::operator_hub::{hub_in_temp_dir, HubTls, OperatorHub};
use super::site_server::SiteServer;

/// A running hub and what it was made from.
pub struct Fleet {
    /// The temp dir holding every server's files; removed on drop.
    pub dir: TempDir,
    /// The hub's trust material.
    pub root: TrustRoot,
    /// The hub server.
    pub hub: OperatorHub,
    /// A client of the system user (pushes account JWTs, asks `LEAFZ`).
    pub system: async_nats::Client,
}

impl Fleet {
    /// A hub with TLS on both ports, and no site yet.
    pub async fn start() -> Self {
        let (dir, root, hub) = hub_in_temp_dir(HubTls::ClientAndLeafPorts).await;
        let system = hub.system_client().await;
        Self { dir, root, hub, system }
    }

    /// Adds site `id` (its account pushed) and writes its bundle into `<dir>/bundle-<id>`.
    pub async fn add_site(&self, id: &str) -> (Token, SiteBundlePaths) {
        let site = Token::new(id).unwrap();
        let issue = self.root.add_site(&site, &ServerNames::localhost()).unwrap();
        self.push(&issue.account_jwt).await;
        let paths = self.write_bundle(&issue.bundle, &format!("bundle-{id}"));
        (site, paths)
    }

    /// Writes `bundle` into `<dir>/<name>`.
    pub fn write_bundle(&self, bundle: &SiteBundle, name: &str) -> SiteBundlePaths {
        bundle.write(&self.dir.path().join(name)).unwrap()
    }

    /// Adds site `id` and starts its server (named `site-<id>`).
    pub async fn start_site(&self, id: &str) -> SiteServer {
        let (site, bundle) = self.add_site(id).await;
        self.start_site_server(&format!("site-{id}"), &site, &bundle).await
    }

    /// Starts a server for `site` named `name` from the bundle in `bundle`.
    pub async fn start_site_server(&self, name: &str, site: &Token, bundle: &SiteBundlePaths) -> SiteServer {
        let hub_leaf_url = self.hub.leaf_url.as_deref().expect("the hub listens for leaves");
        SiteServer::start(self.dir.path(), name, site, bundle, hub_leaf_url).await
    }

    /// Pushes an account JWT to the hub.
    pub async fn push(&self, account_jwt: &str) {
        push_account_jwt(&self.system, account_jwt)
            .await
            .expect("the hub takes the account JWT");
    }

    /// The hub process's client in the HUB account (`trust/hub.creds`).
    pub async fn hub_process(&self) -> async_nats::Client {
        self.connect(self.root.layout().hub_creds()).await
    }

    /// The hub process's client inside `site`'s account.
    pub async fn hub_in_site(&self, site: &Token) -> async_nats::Client {
        self.connect(self.root.hub_in_site_creds_path(site)).await
    }

    async fn connect(&self, creds: PathBuf) -> async_nats::Client {
        self.hub.connect(&creds).await.expect("connect to the hub")
    }
}
