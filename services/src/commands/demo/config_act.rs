//! The demo's config act: a value for every store and one store's own, read at each store by its local reader; the
//! store cut off keeps serving what it holds while the hub changes it, and catches up when healed.

use super::fleet_processes::{Fleet, SiteProcess};
use super::story::Story;
use super::until;
use crate::api_types::config_api::{ConfigEntryView, ConfigSet, ConfigSiteView};
use crate::api_types::requests::Empty;
use crate::commands::api_client::HubApi;
use anyhow::Context;
use events::config::ConfigScope;

const KEY: &str = "menu/soup";

/// The value of [`KEY`] in `site`'s config bucket, read as its local reader (the key from its bundle).
async fn read_at(site: &SiteProcess) -> anyhow::Result<Option<String>> {
    let seed = std::fs::read_to_string(site.bundle_dir.join("local-reader.nk")).context("the local reader's key")?;
    let client = async_nats::ConnectOptions::new()
        .nkey(seed.trim().to_string())
        .custom_inbox_prefix(fleet_trust::LOCAL_READER_INBOX_PREFIX)
        .add_root_certificates(site.bundle_dir.join("site-ca.pem"))
        .require_tls(true)
        .connect(&site.url)
        .await?;
    let kv = async_nats::jetstream::new(client)
        .get_key_value(fleet_trust::CONFIG_BUCKET)
        .await?;
    Ok(kv.get(KEY).await?.map(|v| String::from_utf8_lossy(&v).into_owned()))
}

async fn set(api: &HubApi, scope: ConfigScope, value: &str) -> anyhow::Result<()> {
    let request = ConfigSet {
        scope,
        key: KEY.into(),
        value: value.into(),
        ttl_s: None,
    };
    let _: ConfigEntryView = api.call("config.set", &request).await?;
    Ok(())
}

async fn current(api: &HubApi, site: &str) -> Option<bool> {
    let sites: Vec<ConfigSiteView> = api.call("config_sites.list", &Empty {}).await.ok()?;
    sites
        .iter()
        .find(|s| s.site == site)
        .map(|s| s.current && s.revision > 0)
}

/// Waits until `site` serves `value` from its bucket.
async fn serves(site: &SiteProcess, value: &str) -> anyhow::Result<()> {
    until(&format!("{} to serve {KEY}={value}", site.id), 60, || async {
        (read_at(site).await.ok()?.as_deref() == Some(value)).then_some(())
    })
    .await
}

/// Tells the act.
pub async fn tell(story: &Story, api: &HubApi, fleet: &mut Fleet) -> anyhow::Result<()> {
    anyhow::ensure!(fleet.sites.len() >= 2, "the config act needs two sites or more");
    let first = fleet.sites[0].id.clone();
    set(api, ConfigScope::All, "tomato").await?;
    set(api, ConfigScope::Site(super::token(&first)?), "lentil").await?;
    serves(&fleet.sites[0], "lentil").await?;
    serves(&fleet.sites[1], "tomato").await?;
    story.tell(format!(
        "config {KEY}=tomato for every store and lentil for {first}: each store's local reader reads its own from \
         the ef-config bucket on the store's NATS"
    ));
    fleet.sites[0].link.cut();
    set(api, ConfigScope::Site(super::token(&first)?), "borscht").await?;
    until(&format!("the hub to see {first} behind"), 60, || async {
        (!current(api, &first).await?).then_some(())
    })
    .await?;
    let held = read_at(&fleet.sites[0]).await?.unwrap_or_default();
    anyhow::ensure!(
        held == "lentil",
        "{first}, cut off, serves {held:?} instead of what it held"
    );
    story.tell(format!(
        "{first} cut off while its soup changes to borscht at the hub: it keeps serving {held} to its local apps, \
         and config sites shows it behind"
    ));
    fleet.sites[0].link.heal();
    serves(&fleet.sites[0], "borscht").await?;
    until(&format!("{first} current"), 60, || async {
        current(api, &first).await?.then_some(())
    })
    .await?;
    story.tell(format!(
        "{first} healed: it serves borscht and holds the latest config revision"
    ));
    Ok(())
}
