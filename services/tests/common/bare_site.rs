//! A site's nats-server without its site process: configured from the site's bundle exactly as `edgefleet site`
//! configures it (domain = site id, TLS, the SITE account, the leaf link bound to the site's account at the hub),
//! holding whatever events a test writes into its stream and nothing else. For tests of what the hub shows of a
//! site's history, with no planner adding events of its own.

use super::{file_appears, Hub};
use async_nats::jetstream::Context;
use events::Token;
use fleet_trust::{SiteServerAuth, UserKey, SITE_ACCOUNT};
use nats_process::{ClientCredentials, LeafRemote, NatsServer, TlsFiles};
use std::path::Path;

/// A running bare site server.
pub struct BareSite {
    /// The site id.
    pub id: Token,
    /// The server.
    pub server: NatsServer,
    /// JetStream as the site's process user.
    pub js: Context,
}

impl BareSite {
    /// Adds site `id` at `hub` and starts its server from the bundle, with the site's stream created.
    pub async fn start(dir: &Path, hub: &Hub, id: &str) -> Self {
        let bundle = dir.join(format!("{id}-bundle"));
        hub.add_site(id, &bundle, &format!("nats-leaf://127.0.0.1:{}", hub.leaf_port))
            .await;
        file_appears(&bundle.join("leaf.creds")).await;
        let site = testkit::token(id);
        let key = UserKey::generate();
        let auth = SiteServerAuth {
            site: site.clone(),
            process_user: key.public_key(),
            join_password: "unused-by-a-bare-site".into(),
            nodes: vec![],
            local_readers: vec![],
            system_password: None,
        }
        .render()
        .expect("site auth");
        let server = NatsServer::builder(id)
            .jetstream_domain(id)
            .tls(TlsFiles {
                cert: bundle.join("site.pem"),
                key: bundle.join("site-key.pem"),
                ca: bundle.join("site-ca.pem"),
            })
            .leaf_remote_to(LeafRemote {
                url: format!("nats-leaf://127.0.0.1:{}", hub.leaf_port),
                credentials: Some(bundle.join("leaf.creds")),
                local_account: Some(SITE_ACCOUNT.into()),
                ca: Some(bundle.join("hub-ca.pem")),
            })
            .auth_config(&auth)
            .client_credentials(ClientCredentials::NKeySeed(key.seed()))
            .data_dir(dir.join(format!("{id}-server")))
            .start()
            .await
            .expect("site server starts");
        let client = server.connect().await.expect("site process user connects");
        let js = async_nats::jetstream::new(client);
        replay::ensure_site_stream(&js, &site, &replay::StreamPolicy::default())
            .await
            .expect("site stream");
        Self { id: site, server, js }
    }
}
