//! `edgefleet demo`: a local fleet of real processes — a hub, N sites (leaf nats-servers with their site
//! controllers) and M node agents per site with real GPT disk images — driven through the hub API the way an
//! operator would, told as a story: registration, clusters from a profile, a fleet rollout of a new OS image in
//! waves, one site's link cut mid-rollout and healed.

mod fleet_processes;
mod sample;
mod story;

use crate::cli::DemoArgs;
use crate::commands::api_client::HubApi;
use anyhow::Context;
use fleet_processes::{start_hub, start_site, SiteProcess};
use serde_json::{json, Value};
use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use story::Story;

/// Polls `check` every 250 ms until it gives a value or `timeout_s` passes.
async fn until<T, F, Fut>(what: &str, timeout_s: u64, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(timeout_s);
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        anyhow::ensure!(Instant::now() < deadline, "{what}: not reached within {timeout_s} s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut story = Story::new();
    println!(
        "edgefleet demo — a local fleet: a hub and {} site(s) × {} node(s), all real processes and nats-servers",
        args.sites, args.nodes
    );
    let dir = tempfile::Builder::new()
        .prefix("edgefleet-demo-")
        .tempdir()
        .context("creating the demo directory")?;
    let result = tell_the_story(&mut story, &args, dir.path()).await;
    let (hub, sites) = match result {
        Ok(fleet) => fleet,
        Err(e) => {
            story.fail(format!("{e:#}"));
            println!("logs are in {} (kept)", dir.keep().display());
            return Ok(ExitCode::from(1));
        }
    };
    if !args.once {
        println!();
        println!("The fleet keeps running. Point the CLI at it:");
        println!("  export EDGEFLEET_HUB={}", hub.url);
        println!("  edgefleet sites ls; edgefleet nodes ls; edgefleet clusters ls; edgefleet rollouts get r1");
        println!(
            "  edgefleet history node/n1 --site {}   # or: edgefleet history node/{}/n1",
            sites[0].id, sites[0].id
        );
        println!(
            "Ctrl-C stops everything{}.",
            if args.keep { "" } else { " and removes the demo's data" }
        );
        crate::shutdown::wait_for_signal().await?;
    }
    println!("stopping the fleet");
    for site in sites {
        site.stop();
    }
    hub.stop();
    if args.keep {
        println!("kept {}", dir.keep().display());
    }
    Ok(if story.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn tell_the_story(
    story: &mut Story,
    args: &DemoArgs,
    dir: &std::path::Path,
) -> anyhow::Result<(fleet_processes::HubProcess, Vec<SiteProcess>)> {
    let hub = start_hub(dir)?;
    let api = until("the hub API", 30, || async {
        let api = HubApi::connect(Some(&hub.url)).await.ok()?;
        api.call("sites.list", json!({})).await.ok().map(|_| api)
    })
    .await?;
    story.tell(format!(
        "hub up on {} (JetStream domain hub, fsync on every write, API `edgefleet` micro service)",
        hub.url
    ));

    let mut sites = Vec::new();
    for i in 1..=args.sites {
        sites.push(start_site(dir, &hub, &format!("store-{i}"), args.nodes).await?);
    }
    let site_count = sites.len();
    until("every site connected", 60, || async {
        let rows = api.call("sites.list", json!({})).await.ok()?;
        let connected = rows
            .as_array()?
            .iter()
            .filter(|r| r["connection"] == "connected")
            .count();
        (connected == site_count).then_some(())
    })
    .await?;
    story.tell(format!(
        "{site_count} sites up as leaf nats-servers (JetStream domain = site id); the hub sources each site's stream"
    ));
    let nodes_total = site_count * args.nodes as usize;
    until("every node registered", 60, || async {
        let rows = api.call("nodes.list", json!({ "state": "unassigned" })).await.ok()?;
        (rows.as_array()?.len() == nodes_total).then_some(())
    })
    .await?;
    story.tell(format!(
        "{nodes_total} node agents registered with their inventory and GPT disk images; all unassigned"
    ));

    let js = crate::hub_connection::connect_hub(Some(&hub.url)).await?;
    let v1 = sample::publish(&api, &js, "2026.11", 1).await?;
    story.tell(format!(
        "profile edge-stack@1 published (OS image edge-os 2026.11, sha256 {}…, k3s, cilium, pos)",
        &v1[..12]
    ));
    for site in &sites {
        let body = json!({ "id": "main", "site": site.id, "profile": "edge-stack@1", "labels": { "tier": "store" } });
        api.call("clusters.create", body).await?;
        for n in 1..=args.nodes {
            let role = if n == 1 { "control-plane" } else { "worker" };
            api.call(
                "nodes.assign",
                json!({ "id": format!("n{n}"), "site": site.id, "cluster": "main", "role": role }),
            )
            .await?;
        }
    }
    story.tell(format!(
        "clusters created at every site from edge-stack@1; {nodes_total} nodes assigned (n1 control-plane)"
    ));
    for site in &sites {
        until(&format!("{}/main ready", site.id), 90, || async {
            let c = api
                .call("clusters.get", json!({ "id": "main", "site": site.id }))
                .await
                .ok()?;
            (c["state"] == "ready").then_some(())
        })
        .await?;
    }
    story.tell("every cluster provisioned through the ClusterRuntime and ready");

    sample::publish(&api, &js, "2026.12", 2).await?;
    let rollout = api
        .call(
            "rollouts.create",
            json!({ "id": "r1", "profile": "edge-stack@2", "selector": { "tier": "store" }, "waves": "1,50%,100%" }),
        )
        .await?;
    let waves: Vec<usize> = rollout["waves"]
        .as_array()
        .map(|w| w.iter().map(|c| c.as_array().map_or(0, Vec::len)).collect())
        .unwrap_or_default();
    story.tell(format!(
        "rollout r1 → edge-stack@2 (OS 2026.12) over tier=store in waves of {waves:?} clusters"
    ));

    let wave_done = |r: &Value, wave: usize| {
        r["waves"][wave]
            .as_array()
            .is_some_and(|cs| cs.iter().all(|c| c["status"] == "updated"))
    };
    until("the canary wave", 120, || async {
        let r = api.call("rollouts.get", json!({ "id": "r1" })).await.ok()?;
        wave_done(&r, 0).then_some(())
    })
    .await?;
    story.tell(
        "canary wave updated: its nodes wrote ROOT-B, booted it through the boot selector, passed the health check",
    );
    let last = rollout["waves"]
        .as_array()
        .and_then(|w| w.last())
        .and_then(|w| w[0]["cluster"].as_str())
        .unwrap_or("")
        .to_string();
    let cut = sites.iter().find(|s| last.starts_with(&format!("{}/", s.id)));
    if let Some(site) = cut {
        site.link.cut();
        story.tell(format!(
            "{}'s link to the hub is cut mid-rollout; the site keeps running and deciding",
            site.id
        ));
    }
    if waves.len() > 2 {
        until("the middle waves", 180, || async {
            let r = api.call("rollouts.get", json!({ "id": "r1" })).await.ok()?;
            (1..waves.len() - 1).all(|w| wave_done(&r, w)).then_some(())
        })
        .await?;
        story.tell("middle waves updated; the last wave waits for its cut-off site");
    }
    if let Some(site) = cut {
        tokio::time::sleep(Duration::from_secs(2)).await; // let the cut show in `sites ls` before healing
        let rows = api.call("sites.list", json!({})).await?;
        let state = rows
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["site"] == site.id.as_str())
            .map(|r| r["connection"].clone());
        story.tell(format!("hub sees {} as {}", site.id, state.unwrap_or(Value::Null)));
        site.link.heal();
        story.tell(format!("{}'s link healed; sourcing resumes both ways", site.id));
    }
    let done = until("the rollout to complete", 180, || async {
        let r = api.call("rollouts.get", json!({ "id": "r1" })).await.ok()?;
        (r["state"] == "complete").then_some(r)
    })
    .await?;
    story.tell(format!(
        "rollout r1 complete: every cluster runs edge-stack@2, {} failures",
        done["failures"]
    ));
    Ok((hub, sites))
}
