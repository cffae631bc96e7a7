//! The edge cache of central config on real processes: entries set at the hub for every site, for a label and for
//! one site reach exactly the sites they target; local applications read them at the site's NATS with the site's
//! local reader key; a site cut off keeps serving what it holds, drops an entry when it expires by its own clock,
//! and catches up when the link returns; the hub shows which revision each site holds.

mod common;

use common::cli::{ok, try_json as json};
use common::{eventually, eventually_with, test_dir, Hub, Site};
use std::path::Path;
use std::time::Duration;

/// The site's config bucket, read as its local reader (the key from the site's bundle), key by key.
async fn reader(dir: &Path, site: &Site) -> async_nats::jetstream::kv::Store {
    let client = common::local_reader(dir, site).await;
    eventually("the site's config bucket", Duration::from_secs(30), || async {
        async_nats::jetstream::new(client.clone())
            .get_key_value(fleet_trust::CONFIG_BUCKET)
            .await
            .ok()
    })
    .await
}

async fn value(kv: &async_nats::jetstream::kv::Store, key: &str) -> Option<String> {
    kv.get(key)
        .await
        .expect("a get is answered")
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}

/// Waits until `kv` holds `expected` for each key (`None`: absent).
async fn holds(kv: &async_nats::jetstream::kv::Store, what: &str, expected: &[(&str, Option<&str>)]) {
    eventually_with(what, Duration::from_secs(60), || async {
        let mut got = Vec::new();
        for (key, _) in expected {
            got.push(value(kv, key).await);
        }
        let want: Vec<Option<String>> = expected.iter().map(|(_, v)| v.map(str::to_owned)).collect();
        (got == want).then_some(()).ok_or(format!("{got:?}"))
    })
    .await;
}

fn site_config(hub: &Hub, site: &str) -> Option<serde_json::Value> {
    json(hub, &["config", "sites"])?
        .as_array()?
        .iter()
        .find(|s| s["site"] == site)
        .cloned()
}

#[actix_rt::test]
async fn config_reaches_the_sites_it_targets_and_a_cut_site_serves_what_it_holds_and_drops_what_expires() {
    let dir = test_dir();
    let hub = Hub::start(dir.path()).await;
    let gold = Site::start(dir.path(), &hub, "store-1", &[]).await;
    let silver = Site::start(dir.path(), &hub, "store-2", &[]).await;
    ok(&hub, &["sites", "label", "store-1", "tier=gold"]);
    ok(&hub, &["sites", "label", "store-2", "tier=silver"]);

    ok(&hub, &["config", "set", "menu/soup", "tomato"]);
    ok(
        &hub,
        &["config", "set", "flags.new-ui", "on", "--scope", "label=tier=gold"],
    );
    ok(
        &hub,
        &["config", "set", "menu/soup", "lentil", "--scope", "site=store-1"],
    );

    let at_gold = reader(dir.path(), &gold).await;
    let at_silver = reader(dir.path(), &silver).await;
    holds(
        &at_gold,
        "store-1's config",
        &[("menu/soup", Some("lentil")), ("flags.new-ui", Some("on"))],
    )
    .await;
    holds(
        &at_silver,
        "store-2's config, none of store-1's",
        &[("menu/soup", Some("tomato")), ("flags.new-ui", None), ("promo", None)],
    )
    .await;
    eventually(
        "both sites hold their latest revision",
        Duration::from_secs(30),
        || async {
            let one = site_config(&hub, "store-1")?;
            let two = site_config(&hub, "store-2")?;
            (one["current"] == true && two["current"] == true && one["keys"] == 2 && two["keys"] == 1).then_some(())
        },
    )
    .await;
    // A promotion for store-1 that expires in a few seconds reaches it,
    ok(
        &hub,
        &[
            "config",
            "set",
            "promo",
            "two-for-one",
            "--scope",
            "site=store-1",
            "--ttl",
            "6s",
        ],
    );
    holds(&at_gold, "the promotion at store-1", &[("promo", Some("two-for-one"))]).await;

    // Given store-1 then cut off, a change made at the hub does not reach it: it keeps serving what it holds,
    gold.link.cut();
    ok(
        &hub,
        &["config", "set", "menu/soup", "borscht", "--scope", "site=store-1"],
    );
    eventually("the hub sees store-1 behind", Duration::from_secs(30), || async {
        let one = site_config(&hub, "store-1")?;
        (one["current"] == false).then_some(())
    })
    .await;
    assert_eq!(value(&at_gold, "menu/soup").await.as_deref(), Some("lentil"));
    // and the promotion still expires on time there, by the site's own clock.
    holds(&at_gold, "the promotion expired at the cut site", &[("promo", None)]).await;
    assert_eq!(value(&at_gold, "flags.new-ui").await.as_deref(), Some("on"));

    // When the link returns, the site catches up and says so.
    gold.link.heal();
    holds(&at_gold, "store-1 caught up", &[("menu/soup", Some("borscht"))]).await;
    eventually(
        "store-1 holds the latest revision again",
        Duration::from_secs(30),
        || async { (site_config(&hub, "store-1")?["current"] == true).then_some(()) },
    )
    .await;

    // Deleting the site's own value lets the fleet-wide one show again; a local reader may not write.
    ok(&hub, &["config", "delete", "menu/soup", "--scope", "site=store-1"]);
    holds(
        &at_gold,
        "the fleet-wide soup at store-1",
        &[("menu/soup", Some("tomato"))],
    )
    .await;
    assert!(
        at_gold.put("menu/soup", "hacked".into()).await.is_err(),
        "a local reader writes nothing"
    );
    let listed = json(&hub, &["config", "ls"]).expect("config ls");
    assert!(
        listed
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["key"] == "promo" && e["expired"] == true),
        "{listed}"
    );
}
