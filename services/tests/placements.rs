//! Placement on real processes: an app placed by labels on two of three sites and installed there; a site cut past
//! the toleration and the app moves to the third while the cut site keeps running it and serving its config; back,
//! the app returns only if the policy prefers it; explanations name the filter that removed each cluster; a dry run
//! changes nothing and, at a past time, decides over the fleet as it was then.

mod common;

use common::cli::{ok, run, try_json as json};
use common::store_fleet::fleet_on_v1;
use common::{eventually, test_dir};
use std::path::Path;
use std::time::Duration;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("manifest");
    path.display().to_string()
}

/// The placement of `pos@1` on two clusters of region eu or us, lowest latency first, `steady` weighing `steady`.
fn placement(steady: u32) -> String {
    format!(
        "kind: Placement\nmetadata: {{name: pos}}\nspec:\n  app: pos@1\n  predicates:\n    \
         - site_label: {{key: region, op: in, values: [eu, us]}}\n  prioritizers:\n    \
         - {{score: label_value, label: latency-ms, prefer: lower, weight: 2}}\n    \
         - {{score: steady, weight: {steady}}}\n  number_of_clusters: 2\n  tolerate_offline_s: 4\n"
    )
}

fn chosen(hub: &common::Hub) -> Option<Vec<String>> {
    let view = json(hub, &["placements", "get", "pos"])?;
    let mut chosen: Vec<String> = view["chosen"]
        .as_array()?
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    chosen.sort();
    Some(chosen)
}

/// Waits until the placement chose `want`, the hub asks exactly those clusters to run pos@1, and each of them
/// reported it installed.
async fn placed_on(hub: &common::Hub, want: &[&str], what: &str) {
    eventually(what, Duration::from_secs(60), || async {
        let now = chosen(hub)?;
        let apps_follow = ["store-a", "store-b", "store-c"].iter().all(|site| {
            let Some(cluster) = json(hub, &["clusters", "get", "main", "--site", site]) else {
                return false;
            };
            let wanted = cluster["apps"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "pos@1"));
            let running = cluster["app_status"].as_array().is_some_and(|s| {
                s.iter()
                    .any(|a| a["app"] == "pos" && a["installed"] == "pos@1" && a["healthy"] == true)
            });
            let chosen = want.contains(&format!("{site}/main").as_str());
            wanted == chosen && (!chosen || running)
        });
        (now == want && apps_follow).then_some(())
    })
    .await;
}

/// The apps the site's own runtime installed on its cluster `main` (read from the site's data dir, not the hub).
fn installed_at(site: &common::Site) -> Vec<String> {
    let path = site.data_dir.join("runtime-apps.json");
    let apps: serde_json::Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    apps["main"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_app_moves_off_a_site_cut_past_its_toleration_and_back_only_when_the_policy_prefers_it() {
    let dir = test_dir();
    let (hub, sites, _agents) = fleet_on_v1(dir.path(), &["store-a", "store-b", "store-c"]).await;
    ok(&hub, &["sites", "label", "store-a", "region=eu", "latency-ms=10"]);
    ok(&hub, &["sites", "label", "store-b", "region=eu", "latency-ms=20"]);
    // store-c was the fastest last week; it is the slowest now.
    ok(&hub, &["sites", "label", "store-c", "region=us", "latency-ms=5"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let last_week = std::time::SystemTime::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ok(&hub, &["sites", "label", "store-c", "region=us", "latency-ms=30"]);

    let app = "kind: App\nmetadata: {name: pos}\nspec:\n  helm: {chart: oci://registry.example/charts/pos, \
               version: 3.2.0, namespace: pos, values: {replicas: 2}}\n";
    ok(&hub, &["apply", "-f", &write(dir.path(), "app.yaml", app)]);
    // Given a placement whose steadiness outweighs a latency advantage,
    let steady = write(dir.path(), "steady.yaml", &placement(3));
    ok(&hub, &["placements", "apply", "-f", &steady]);
    placed_on(&hub, &["store-a/main", "store-b/main"], "pos on the two fastest sites").await;

    // store-a's local apps also read a config value the hub set for it.
    ok(
        &hub,
        &["config", "set", "pos/till-count", "4", "--scope", "site=store-a"],
    );
    let reader = common::local_reader(dir.path(), &sites[0]).await;
    let till_count = || async {
        let kv = async_nats::jetstream::new(reader.clone())
            .get_key_value(fleet_trust::CONFIG_BUCKET)
            .await
            .ok()?;
        kv.get("pos/till-count")
            .await
            .ok()?
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    };
    eventually("store-a reads its config", Duration::from_secs(30), || async {
        (till_count().await.as_deref() == Some("4")).then_some(())
    })
    .await;

    // when store-a is cut off past the toleration, pos moves to store-c and the explanation says why;
    sites[0].link.cut();
    placed_on(&hub, &["store-b/main", "store-c/main"], "pos moved off the cut site").await;
    let explained = ok(&hub, &["placements", "explain", "pos"]);
    assert!(
        explained.contains("store-a/main") && explained.contains("removed by offline"),
        "{explained}"
    );
    // The cut site keeps running what it was given (it never heard the app leave) and serving the config it held.
    assert_eq!(installed_at(&sites[0]), ["pos@1"]);
    assert_eq!(till_count().await.as_deref(), Some("4"));

    // and back, it stays where it is: store-a's latency advantage (200) is less than steadiness (300).
    sites[0].link.heal();
    eventually("store-a online again", Duration::from_secs(30), || async {
        let explained = ok(&hub, &["placements", "explain", "pos"]);
        (!explained.contains("removed by offline")).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(chosen(&hub).expect("placed"), ["store-b/main", "store-c/main"]);
    eventually("store-a heard the app leave", Duration::from_secs(30), || async {
        installed_at(&sites[0]).is_empty().then_some(())
    })
    .await;

    // A policy that prefers latency over steadiness takes the app back to store-a.
    let eager = write(dir.path(), "eager.yaml", &placement(1));
    ok(&hub, &["placements", "apply", "-f", &eager]);
    placed_on(&hub, &["store-a/main", "store-b/main"], "pos back on store-a").await;

    // A dry run of a placement that fits nothing says why and saves nothing.
    let mars = write(
        dir.path(),
        "mars.yaml",
        &placement(1).replace("values: [eu, us]", "values: [mars]"),
    );
    let dry = ok(&hub, &["placements", "apply", "-f", &mars, "--dry-run"]);
    assert!(
        dry.contains("Nothing fits") && dry.contains("site label region in [mars]"),
        "{dry}"
    );
    assert_eq!(chosen(&hub).expect("placed"), ["store-a/main", "store-b/main"]);
    let as_json = run(&hub, &["placements", "apply", "-f", &mars, "--dry-run", "-o", "json"]);
    let as_json: serde_json::Value = serde_json::from_slice(&as_json.stdout).expect("json");
    assert_eq!(as_json["dry_run"], true);
    assert_eq!(as_json["decision"]["chosen"], serde_json::json!([]));

    // A dry run at a past time decides over the fleet as it was: store-c was the fastest then.
    let then = humantime::format_rfc3339_millis(last_week).to_string();
    let past = run(
        &hub,
        &[
            "placements",
            "apply",
            "-f",
            &eager,
            "--dry-run",
            "--at",
            &then,
            "-o",
            "json",
        ],
    );
    assert!(past.status.success(), "{}", String::from_utf8_lossy(&past.stderr));
    let past: serde_json::Value = serde_json::from_slice(&past.stdout).expect("json");
    let mut past_chosen: Vec<String> = past["decision"]["chosen"]
        .as_array()
        .expect("chosen")
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c["site"].as_str().unwrap_or("?"),
                c["cluster"].as_str().unwrap_or("?")
            )
        })
        .collect();
    past_chosen.sort();
    assert_eq!(past_chosen, ["store-a/main", "store-c/main"], "{past:#}");
    assert_eq!(
        chosen(&hub).expect("placed"),
        ["store-a/main", "store-b/main"],
        "a dry run saves nothing"
    );
}

/// Staged delivery: with a canary group, the other clusters get an app only once the canary runs it. A canary that
/// fails to install it stops the rest; an app that installs goes canary first, then everywhere.
#[tokio::test]
async fn a_canary_that_fails_to_install_an_app_stops_its_delivery_to_the_rest() {
    let dir = test_dir();
    let failing = [("EDGEFLEET_SIMULATE_APP_FAILURE", "kiosk".to_string())];
    let (hub, _sites, _agents) =
        common::store_fleet::fleet_on_v1_with(dir.path(), &["store-a", "store-b", "store-c"], &[], &failing).await;
    ok(&hub, &["sites", "label", "store-a", "ring=canary"]);
    let manifests = |app: &str| {
        format!(
            "kind: App\nmetadata: {{name: {app}}}\nspec:\n  manifests: |\n    apiVersion: v1\n    kind: ConfigMap\n    \
             metadata: {{name: {app}}}\n---\nkind: Placement\nmetadata: {{name: {app}}}\nspec:\n  app: {app}@1\n  \
             groups:\n    - {{name: canary, selector: {{key: ring, op: in, values: [canary]}}}}\n"
        )
    };
    ok(
        &hub,
        &["apply", "-f", &write(dir.path(), "kiosk.yaml", &manifests("kiosk"))],
    );
    let status = |site: &str, app: &str| {
        json(&hub, &["clusters", "get", "main", "--site", site]).and_then(|c| {
            let wanted = c["apps"].as_array()?.iter().any(|a| a == &format!("{app}@1"));
            let entry = c["app_status"].as_array()?.iter().find(|s| s["app"] == app).cloned();
            Some((wanted, entry))
        })
    };
    let failure = eventually("the canary reports kiosk failed", Duration::from_secs(60), || async {
        let (_, entry) = status("store-a", "kiosk")?;
        let entry = entry?;
        let error = entry["error"].as_str()?.to_owned();
        (entry["healthy"] == false).then_some(error)
    })
    .await;
    assert!(
        failure.contains("simulated failure installing app kiosk@1"),
        "{failure}"
    );
    assert_eq!(chosen_of(&hub, "kiosk").len(), 3, "all three are chosen");
    for _ in 0..5 {
        for site in ["store-b", "store-c"] {
            let (wanted, _) = status(site, "kiosk").expect("cluster");
            assert!(!wanted, "{site} is not asked to run kiosk while the canary fails");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    ok(
        &hub,
        &["apply", "-f", &write(dir.path(), "menu.yaml", &manifests("menu"))],
    );
    eventually("menu on every store, canary first", Duration::from_secs(60), || async {
        ["store-a", "store-b", "store-c"]
            .iter()
            .all(|site| {
                status(site, "menu")
                    .and_then(|(_, e)| e)
                    .is_some_and(|e| e["healthy"] == true)
            })
            .then_some(())
    })
    .await;
}

fn chosen_of(hub: &common::Hub, placement: &str) -> Vec<String> {
    json(hub, &["placements", "get", placement])
        .and_then(|p| p["chosen"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect()
}
