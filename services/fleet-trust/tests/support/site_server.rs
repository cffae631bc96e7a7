//! A site's own nats-server as the fleet runs it: plain config (not operator mode), JetStream in domain `<site>`,
//! a local account `SITE` with a password user for the site's clients, TLS on its client port with the site
//! certificate from its bundle, and a leaf remote to the hub bound to `SITE`, authenticated by the bundle's
//! `leaf.creds` and trusting the hub by its `hub-ca.pem`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use events::Token;
use fleet_trust::{LeafRemote, RemoteTls, ServerTls, SiteBundlePaths, TlsFiles};
use tokio::sync::mpsc;

use super::deadline::eventually;
use super::nats_child::NatsChild;

/// The site server's local account that the leaf link binds to.
pub const SITE_LOCAL_ACCOUNT: &str = "SITE";
/// The site's client user (and password).
const SITE_USER: &str = "ctl";

/// A running site server.
pub struct SiteServer {
    /// The process.
    pub process: NatsChild,
    /// The site.
    pub site: Token,
    /// `nats://127.0.0.1:<client port>`.
    pub client_url: String,
    /// The CA its clients trust (the bundle's `site-ca.pem`).
    pub ca: PathBuf,
}

impl SiteServer {
    /// Starts `site`'s server named `name` in `dir` with the bundle in `bundle`, dialing the hub's leafnodes port
    /// at `hub_leaf_url`; ready once its client can connect (the leaf link may still be coming up).
    pub async fn start(dir: &Path, name: &str, site: &Token, bundle: &SiteBundlePaths, hub_leaf_url: &str) -> Self {
        let remote = LeafRemote {
            url: hub_leaf_url.to_owned(),
            credentials: bundle.leaf_creds(),
            local_account: Some(SITE_LOCAL_ACCOUNT.to_owned()),
            tls: Some(RemoteTls { ca: bundle.hub_ca() }),
        };
        Self::start_with_leafnodes(dir, name, site, bundle, &LeafRemote::render_leafnodes(&[remote])).await
    }

    /// Like [`SiteServer::start`], with the `leafnodes { … }` block given.
    pub async fn start_with_leafnodes(
        dir: &Path,
        name: &str,
        site: &Token,
        bundle: &SiteBundlePaths,
        leafnodes: &str,
    ) -> Self {
        let tls = ServerTls::new(TlsFiles {
            cert: bundle.site_cert(),
            key: bundle.site_key(),
            ca: bundle.site_ca(),
        });
        let [port] = nats_process::free_ports::<1>();
        let config = format!(
            "server_name: {name}\nlisten: \"127.0.0.1:{port}\"\n\
             jetstream {{ store_dir: {store:?}, domain: {site} }}\n\
             accounts {{ {SITE_LOCAL_ACCOUNT}: {{ jetstream: enabled, users: [ {{ user: {SITE_USER}, password: {SITE_USER} }} ] }} }}\n\
             {tls}{leafnodes}",
            store = dir.join(format!("{site}-js")).display().to_string(),
            tls = tls.render_client_port(),
        );
        let server = Self {
            process: NatsChild::spawn(dir, name, &config),
            site: site.clone(),
            client_url: format!("nats://127.0.0.1:{port}"),
            ca: bundle.site_ca(),
        };
        eventually(&format!("{name} to accept clients"), || async {
            server.try_client().await
        })
        .await;
        server
    }

    async fn try_client(&self) -> Option<async_nats::Client> {
        self.options().connect(&self.client_url).await.ok()
    }

    fn options(&self) -> async_nats::ConnectOptions {
        async_nats::ConnectOptions::with_user_and_password(SITE_USER.into(), SITE_USER.into())
            .add_root_certificates(self.ca.clone())
            .require_tls(true)
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(Duration::from_secs(2)))
    }

    /// A client of the site's local account.
    pub async fn client(&self) -> async_nats::Client {
        self.try_client().await.expect("connect to the site server")
    }

    /// Like [`SiteServer::client`], and every client event arrives on the returned channel.
    pub async fn client_with_events(&self) -> (async_nats::Client, mpsc::UnboundedReceiver<async_nats::Event>) {
        let (events, received) = mpsc::unbounded_channel();
        let client = self
            .options()
            .event_callback(move |event| {
                let events = events.clone();
                async move {
                    let _ = events.send(event);
                }
            })
            .connect(&self.client_url)
            .await
            .expect("connect to the site server");
        (client, received)
    }
}
