//! `edgefleet demo`: a local fleet of real processes — a hub, N sites (leaf nats-servers with their site
//! processes) and M node agents per site with real GPT disk images — driven through the hub API the way an operator
//! would, told as a story: registration, clusters from a profile, a fleet rollout of a new OS image in waves, one
//! site's link cut mid-rollout and healed, an app placed by intent that moves off a store cut past its
//! toleration, and central config served at a store cut off from the hub.
//!
//! Ctrl-C, SIGTERM and SIGHUP stop it at any moment: the fleet is stopped and its temp dir removed (kept with
//! `--keep`, or after a failed step). Every child also dies with the demo if the demo itself is killed.

mod config_act;
mod dashboard_act;
mod fleet_processes;
mod placement_act;
mod sample;
mod story;
mod zero_touch;

use crate::api_types::requests::{Assign, ClusterCreate, ClusterRef, Empty, NodeFilter, RolloutCreate, RolloutRef};
use crate::api_types::views::{ClusterView, NodeView, RolloutView, SiteConnection, SiteView};
use crate::cli::DemoArgs;
use crate::commands::api_client::HubApi;
use actors::node::NodeLifecycle;
use anyhow::Context;
use events::node::NodeRole;
use events::Token;
use fleet_processes::{metrics_token_file, start_hub, start_site, Fleet, HubTelemetry};
use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use story::Story;

/// Polls `check` every 100 ms until it gives a value or `timeout_s` passes.
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
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn token(s: &str) -> anyhow::Result<Token> {
    Token::new(s).with_context(|| format!("demo id {s:?}"))
}

/// How the story ended.
enum Ending {
    Told(anyhow::Result<()>),
    Interrupted(&'static str),
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut signals = crate::shutdown::ShutdownSignals::listen()?;
    let mut story = Story::new();
    if args.zero_touch {
        println!(
            "edgefleet demo --zero-touch — one site on a LAN of network namespaces, machines booted from one image"
        );
    } else {
        println!(
            "edgefleet demo — a local fleet: a hub and {} site(s) × {} node(s), all real processes and nats-servers",
            args.sites, args.nodes
        );
    }
    let dir = tempfile::Builder::new()
        .prefix("edgefleet-demo-")
        .tempdir()
        .context("creating the demo directory")?;
    let mut fleet = Fleet::default();
    let telling = async {
        if args.zero_touch {
            zero_touch::tell(&mut story, dir.path(), &mut fleet).await
        } else {
            tell_the_story(&mut story, &args, dir.path(), &mut fleet).await
        }
    };
    let ending = tokio::select! {
        told = telling => Ending::Told(told),
        signal = signals.wait() => Ending::Interrupted(signal),
    };
    let keep_logs = match ending {
        Ending::Told(Ok(())) => {
            if !args.once {
                if let Some(hub) = fleet.hub.as_ref().filter(|_| !args.zero_touch) {
                    print_how_to_look(
                        &hub.address,
                        fleet.sites.first().map(|s| s.id.as_str()).unwrap_or("store-1"),
                        fleet.prometheus.as_ref(),
                    );
                }
                let signal = signals.wait().await;
                println!("{signal}: stopping the fleet");
            }
            false
        }
        Ending::Told(Err(e)) => {
            story.fail(format!("{e:#}"));
            true
        }
        Ending::Interrupted(signal) => {
            story.fail(format!("interrupted by {signal}"));
            false
        }
    };
    println!("stopping the fleet");
    fleet.stop();
    if keep_logs || args.keep {
        println!("logs and data kept in {}", dir.keep().display());
    }
    Ok(if story.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_how_to_look(
    hub: &crate::hub_connection::HubAddress,
    site: &str,
    prometheus: Option<&telemetry::PrometheusServer>,
) {
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    println!();
    println!("The fleet keeps running. Point the CLI at it (as the hub's admin, over TLS):");
    println!("  export EDGEFLEET_HUB={}", hub.url.as_deref().unwrap_or_default());
    println!("  export EDGEFLEET_CREDS={}", path(&hub.creds));
    println!("  export EDGEFLEET_CA={}", path(&hub.ca));
    println!("  edgefleet sites ls; edgefleet nodes ls; edgefleet clusters ls; edgefleet rollouts get r1");
    println!("  edgefleet rollouts explain r1   # every release and gate verdict, replayed from the log");
    println!("  edgefleet history node/n1 --site {site}   # or: edgefleet history node/{site}/n1");
    println!("  edgefleet dashboard url   # a one-time sign-in link to the hub's web dashboard");
    if let Some(prometheus) = prometheus {
        println!(
            "Node metrics are in Prometheus at {} — try the PromQL:",
            prometheus.url("")
        );
        println!("  avg by (site, node) (rate(node_cpu_seconds_total{{mode!=\"idle\"}}[1m]))");
        println!("  edgefleet_telemetry_delivered_samples_total   # the hub's own /metrics, scraped every 5 s");
    }
    println!("Ctrl-C stops everything and removes the demo's data (unless --keep).");
}

async fn tell_the_story(
    story: &mut Story,
    args: &DemoArgs,
    dir: &std::path::Path,
    fleet: &mut Fleet,
) -> anyhow::Result<()> {
    let token_file = metrics_token_file(dir)?;
    let metrics_port = nats_process::free_port();
    let prometheus = telemetry::PrometheusServer::start(
        &dir.join("prometheus"),
        Duration::from_secs(8 * 24 * 3600),
        &[telemetry::ScrapeTarget {
            job: "edgefleet-hub".into(),
            address: format!("127.0.0.1:{metrics_port}"),
            token_file: Some(token_file.clone()),
            ca_file: None,
        }],
        Duration::from_secs(5),
    )
    .await
    .context("starting Prometheus (scripts/setup installs Debian's package)")?;
    let hub_telemetry = HubTelemetry {
        remote_write: prometheus.remote_write_url(),
        metrics_port,
        dashboard_port: nats_process::free_port(),
        metrics_token_file: token_file,
    };
    story.tell(format!(
        "Prometheus up on {} (remote-write receiver, 8-day out-of-order window), scraping the hub's /metrics with a \
         bearer token",
        prometheus.url("")
    ));
    fleet.prometheus = Some(prometheus);
    let hub = start_hub(dir, &hub_telemetry)?;
    let address = hub.address.clone();
    let hub_url = address.url.clone().unwrap_or_default();
    fleet.hub = Some(hub);
    let api = until("the hub API", 30, || async {
        let api = HubApi::connect(&address).await.ok()?;
        let _: Vec<SiteView> = api.call("sites.list", &Empty {}).await.ok()?;
        Some(api)
    })
    .await?;
    story.tell(format!(
        "hub up on {hub_url}: its trust root made (operator, accounts, admin credential, fleet CA), TLS and \
         authentication on every port, JetStream domain hub with fsync on every write"
    ));

    for i in 1..=args.sites {
        let hub = fleet.hub.as_ref().context("the hub")?;
        fleet
            .sites
            .push(start_site(dir, hub, &api, &format!("store-{i}"), args.nodes).await?);
    }
    let site_count = fleet.sites.len();
    until("every site connected", 60, || async {
        let sites: Vec<SiteView> = api.call("sites.list", &Empty {}).await.ok()?;
        let connected = sites
            .iter()
            .filter(|s| s.connection == SiteConnection::Connected)
            .count();
        (connected == site_count).then_some(())
    })
    .await?;
    story.tell(format!(
        "{site_count} sites added (one account each at the hub) and up as leaf nats-servers (JetStream domain = site \
         id) from their bundles; the hub sources each site's stream"
    ));
    let nodes_total = site_count * args.nodes as usize;
    until("every node registered", 60, || async {
        let filter = NodeFilter {
            state: Some(NodeLifecycle::Unassigned),
            ..NodeFilter::default()
        };
        let nodes = crate::commands::resources::nodes::list_all(&api, filter).await.ok()?;
        (nodes.len() == nodes_total).then_some(())
    })
    .await?;
    story.tell(format!(
        "{nodes_total} node agents joined with their site's token, each now with its own identity, and registered \
         with their inventory and GPT disk images; all unassigned"
    ));

    let js = address.jetstream().await?;
    let v1 = sample::publish(&api, &js, "2026.11", 1).await?;
    story.tell(format!(
        "profile edge-stack@1 published (OS image edge-os 2026.11, sha256 {}…, k3s, cilium, pos)",
        &v1[..12]
    ));
    let main = token("main")?;
    for site in &fleet.sites {
        let create = ClusterCreate {
            id: main.clone(),
            site: token(&site.id)?,
            profile: "edge-stack@1".parse()?,
            overrides: Default::default(),
            labels: [("tier".to_string(), "store".to_string())].into(),
        };
        let _: ClusterView = api.call("clusters.create", &create).await?;
        for n in 1..=args.nodes {
            let assign = Assign {
                id: token(&format!("n{n}"))?,
                site: Some(token(&site.id)?),
                cluster: main.clone(),
                role: if n == 1 {
                    NodeRole::ControlPlane
                } else {
                    NodeRole::Worker
                },
            };
            let _: NodeView = api.call("nodes.assign", &assign).await?;
        }
    }
    let assigned_at = Instant::now();
    story.tell(format!(
        "clusters created at every site from edge-stack@1; {nodes_total} nodes assigned (n1 control-plane)"
    ));
    for site in &fleet.sites {
        let get = ClusterRef {
            id: main.clone(),
            site: Some(token(&site.id)?),
        };
        until(&format!("{}/main ready", site.id), 90, || async {
            let cluster: ClusterView = api.call("clusters.get", &get).await.ok()?;
            (cluster.state == "ready").then_some(())
        })
        .await?;
    }
    story.tell(format!(
        "every cluster provisioned through the ClusterRuntime and ready, {:.1} s after the assignments",
        assigned_at.elapsed().as_secs_f64()
    ));

    sample::publish(&api, &js, "2026.12", 2).await?;
    let r1 = token("r1")?;
    let create = RolloutCreate {
        id: r1.clone(),
        profile: "edge-stack@2".parse()?,
        selector: [("tier".to_string(), "store".to_string())].into(),
        waves: "1,50%,100%".into(),
        failure_budget: 0,
        window: None,
        skip_after_s: 24 * 3600,
        // Judged at each site over its updated cluster's nodes, from the real /proc samples of its agents.
        gate: Some("node_load1 < 64".parse().map_err(anyhow::Error::msg)?),
    };
    let rollout: RolloutView = api.call("rollouts.create", &create).await?;
    let waves: Vec<usize> = rollout.waves.iter().map(Vec::len).collect();
    story.tell(format!(
        "rollout r1 → edge-stack@2 (OS 2026.12) over tier=store in waves of {waves:?} clusters, each wave gated \
         at its sites on node_load1 < 64"
    ));
    let get = RolloutRef { id: r1.clone() };
    let wave_done = |r: &RolloutView, wave: usize| {
        r.waves
            .get(wave)
            .is_some_and(|cs| cs.iter().all(|c| c.status == "updated"))
    };
    until("the canary wave", 120, || async {
        let r: RolloutView = api.call("rollouts.get", &get).await.ok()?;
        wave_done(&r, 0).then_some(())
    })
    .await?;
    story.tell(
        "canary wave updated: its nodes wrote ROOT-B, booted it through the boot selector, passed the health check",
    );
    let last = rollout
        .waves
        .last()
        .and_then(|w| w.first())
        .map(|c| c.cluster.clone())
        .unwrap_or_default();
    let cut = fleet.sites.iter().position(|s| last.starts_with(&format!("{}/", s.id)));
    if let Some(i) = cut {
        fleet.sites[i].link.cut();
        story.tell(format!(
            "{}'s link to the hub is cut mid-rollout; the site keeps running and deciding",
            fleet.sites[i].id
        ));
    }
    if waves.len() > 2 {
        until("the middle waves", 180, || async {
            let r: RolloutView = api.call("rollouts.get", &get).await.ok()?;
            (1..waves.len() - 1).all(|w| wave_done(&r, w)).then_some(())
        })
        .await?;
        story.tell("middle waves updated; the last wave waits for its cut-off site");
    }
    if let Some(i) = cut {
        let id = fleet.sites[i].id.clone();
        let disconnected = until(&format!("the hub to see {id} disconnected"), 30, || async {
            let sites: Vec<SiteView> = api.call("sites.list", &Empty {}).await.ok()?;
            sites
                .iter()
                .find(|s| s.site == id && s.connection == SiteConnection::Disconnected)
                .map(|s| s.connection)
        })
        .await?;
        story.tell(format!("hub sees {id} as {disconnected}"));
        fleet.sites[i].link.heal();
        story.tell(format!("{id}'s link healed; sourcing resumes both ways"));
    }
    let done = until("the rollout to complete", 180, || async {
        let r: RolloutView = api.call("rollouts.get", &get).await.ok()?;
        (r.state == "complete").then_some(r)
    })
    .await?;
    story.tell(format!(
        "rollout r1 complete: every cluster runs edge-stack@2, {} failures",
        done.failures
    ));
    let explained: actors::rollout::explain::RolloutExplanation = api.call("rollout_explanations.get", &get).await?;
    let gates = explained
        .steps
        .iter()
        .filter(|s| s.event == "RolloutClusterGatePassed")
        .count();
    story.tell(format!(
        "rollouts explain r1: {} steps from the log, {gates} clusters through the gate; now: {}",
        explained.steps.len(),
        explained.now.join("; ")
    ));
    let prometheus = fleet.prometheus.as_ref().context("Prometheus")?;
    let (delivered, dropped) = until(
        "every node's metrics in Prometheus, nothing left to deliver",
        120,
        || async {
            let nodes = prometheus.query("count(node_load1)", None).await.ok()?;
            let series: f64 = nodes.first()?.pointer("/value/1")?.as_str()?.parse().ok()?;
            let sites: Vec<SiteView> = api.call("sites.list", &Empty {}).await.ok()?;
            let deliveries: Vec<_> = sites.iter().flat_map(|s| s.telemetry.iter()).collect();
            let settled = deliveries.len() == sites.len() && deliveries.iter().all(|t| t.backlog_batches == 0);
            (series as usize == nodes_total && settled).then(|| {
                (
                    deliveries.iter().map(|t| t.delivered_samples).sum::<u64>(),
                    deliveries
                        .iter()
                        .map(|t| t.dropped_at_site + t.dropped_at_hub)
                        .sum::<u64>(),
                )
            })
        },
    )
    .await?;
    story.tell(format!(
        "node metrics of all {nodes_total} nodes in Prometheus — sampled from /proc every 5 s, kept at each site \
         through the cut, delivered by the hub: {delivered} samples, {dropped} batches lost"
    ));
    placement_act::tell(story, &api, fleet).await?;
    config_act::tell(story, &api, fleet).await?;
    dashboard_act::tell(story, &api, hub_telemetry.dashboard_port).await
}
