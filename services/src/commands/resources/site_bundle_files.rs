//! Writes a site's bundle, as the hub API returned it, into a directory `edgefleet site --bundle DIR` reads: the
//! trust root's own bundle layout (`fleet_trust::SiteBundle`), plus the hub's leafnode URL.

use crate::api_types::fleet_access::SiteBundleView;
use crate::site::site_trust::HUB_LEAF_URL_FILE;
use anyhow::Context;
use events::Token;
use fleet_trust::{SiteBundle, UserCreds};
use std::path::Path;

/// Writes `bundle` (and `hub_leaf`) into the new or empty directory `dir`.
pub fn write(dir: &Path, bundle: &SiteBundleView, hub_leaf: &str) -> anyhow::Result<()> {
    let files = SiteBundle {
        site: Token::new(bundle.site.clone()).context("the hub named no valid site")?,
        leaf_creds: UserCreds::parse(&bundle.leaf_creds).context("the hub's leaf credential")?,
        hub_ca_pem: bundle.hub_ca_pem.clone(),
        site_ca_pem: bundle.site_ca_pem.clone(),
        site_cert_pem: bundle.site_cert_pem.clone(),
        site_key_pem: bundle.site_key_pem.clone(),
        local_reader_public_key: bundle.local_reader_public_key.clone(),
        local_reader_seed: bundle.local_reader_seed.clone(),
    };
    let paths = files.write(dir)?;
    let url = paths.dir().join(HUB_LEAF_URL_FILE);
    std::fs::write(&url, format!("{hub_leaf}\n")).with_context(|| format!("writing {}", url.display()))?;
    Ok(())
}
