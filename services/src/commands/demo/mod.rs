//! `edgefleet demo`: a local fleet on a real nats-server, told as a story.
//!
//! Today the fleet is the backbone: one hub nats-server (JetStream domain `hub`, fsync on every write) holding the
//! intent stream and one stream per site; site controllers and the hub decide through event-sourced actors;
//! replay, quarantine and time travel are shown on the real log. Leaf-node sites, the API and rollouts join the
//! story as their issues land.

mod scenes;
mod story;

use crate::cli::DemoArgs;
use crate::registries::{ensure_streams, Registries as Writer};
use anyhow::Context;
use nats_process::NatsServer;
use std::process::ExitCode;
use story::Story;

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut story = Story::new();
    println!(
        "edgefleet demo — a local fleet of {} site(s) × {} node(s)",
        args.sites, args.nodes
    );
    let dir = tempfile::Builder::new()
        .prefix("edgefleet-demo-")
        .tempdir()
        .context("creating the demo directory")?;
    let mut hub_server = NatsServer::builder("hub")
        .jetstream_domain("hub")
        .sync_always()
        .leaf_listen()
        .data_dir(dir.path().join("hub"))
        .start()
        .await
        .context("starting the hub's nats-server")?;
    story.tell(format!(
        "hub nats-server up on {} (JetStream domain hub, fsync on every write); data in {}",
        hub_server.client_url(),
        dir.path().display()
    ));

    let sites: Vec<events::Token> = (1..=args.sites)
        .map(|n| events::Token::new(format!("store-{n}")))
        .collect::<Result<_, _>>()?;
    let client = hub_server.connect().await?;
    let js = async_nats::jetstream::new(client.clone());
    ensure_streams(&js, &sites).await?;
    story.tell(format!(
        "streams ready: EF_INTENT and {} site stream(s), created idempotently",
        sites.len()
    ));

    let hub = Writer::start(client.clone(), events::Origin::Hub, &dir.path().join("hub.redb")).await?;
    let mut site_writers = Vec::new();
    for site in &sites {
        let path = dir.path().join(format!("{site}.redb"));
        site_writers.push(Writer::start(client.clone(), events::Origin::Site(site.clone()), &path).await?);
    }

    scenes::sites_come_up(&mut story, &site_writers, args.nodes).await;
    scenes::operator_intents(&mut story, &hub, &sites).await;
    scenes::racing_operators(&mut story, &hub_server, &hub, &site_writers[0], args.nodes + 1).await;
    scenes::sites_act_on_intents(&mut story, &site_writers).await;
    scenes::replay_matches_actors(&mut story, &js, &hub, &site_writers, args.nodes).await;
    scenes::quarantine(&mut story, &js, &site_writers[0], &sites[0]).await;
    scenes::time_travel(&mut story, &hub.log, &sites[0]).await;

    if story.failed() {
        println!("the story had failed steps (see FAILED above)");
    }
    if args.once {
        hub_server.stop();
        if args.keep {
            println!("kept {}", dir.keep().display());
        }
        return Ok(if story.failed() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    println!();
    println!("The fleet keeps running. Point the CLI at it:");
    println!("  export EDGEFLEET_HUB={}", hub_server.client_url());
    println!("  edgefleet history node/{}/n1", sites[0]);
    println!("  edgefleet get node/{}/n1 --at 2", sites[0]);
    println!("  edgefleet replay --data-dir /tmp/edgefleet-replay");
    println!(
        "Ctrl-C stops everything{}.",
        if args.keep { "" } else { " and removes the demo's data" }
    );
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    println!("stopping");
    hub_server.stop();
    if args.keep {
        println!("kept {}", dir.keep().display());
    }
    Ok(if story.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
