//! The hub's way into each site's account on its own server: one connection per site, as the hub's user inside
//! that account (`<data dir>/trust/sites/<site>/hub.creds`). Through it the hub keeps its copy of the site's stream
//! (`EF_SITE_<site>`, sourced over the site's leaf link), reads that copy, and answers the site's beacons. No site
//! can reach another site's account, nor the hub's.

use anyhow::Context;
use events::Token;
use fleet_trust::TrustRoot;
use std::path::Path;

/// A connection into one site's account.
#[derive(Clone)]
pub struct SiteAccount {
    /// The site.
    pub site: Token,
    /// The hub's connection in the site's account.
    pub client: async_nats::Client,
    /// JetStream in the site's account at the hub.
    pub js: async_nats::jetstream::Context,
}

/// Connects as the hub's user in `site`'s account.
pub async fn connect(url: &str, ca: &Path, trust: &TrustRoot, site: &Token) -> anyhow::Result<SiteAccount> {
    let creds = trust.hub_in_site_creds_path(site);
    let options = async_nats::ConnectOptions::new()
        .name(format!("edgefleet-hub-in-{site}"))
        .credentials_file(&creds)
        .await
        .with_context(|| format!("reading {}", creds.display()))?
        .add_root_certificates(ca.to_path_buf())
        .require_tls(true);
    let client = crate::hub_connection::connect_local(url, options)
        .await
        .with_context(|| format!("connecting into site {site}'s account"))?;
    let js = async_nats::jetstream::new(client.clone());
    Ok(SiteAccount {
        site: site.clone(),
        client,
        js,
    })
}
