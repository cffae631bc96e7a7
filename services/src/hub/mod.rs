//! `edgefleet hub`: the management plane — the hub's nats-server (embedded and supervised, or external), the
//! intent stream, automatic sourcing of every site that appears, the fleet view and the API.

mod api;
pub mod fleet_view;
pub mod rollouts;
pub mod site_directory;

use crate::cli::HubArgs;
use crate::server_supervisor::Supervisor;
use anyhow::Context;
use fleet_view::FleetView;
use nats_process::NatsServer;
use replay::StreamPolicy;
use site_directory::SiteDirectory;
use std::process::ExitCode;
use std::rc::Rc;

/// Runs the hub until SIGTERM or Ctrl-C.
pub async fn run(args: HubArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let (url, supervisor) = match &args.nats_url {
        Some(url) => (url.clone(), None),
        None => {
            let (host, port) = crate::listen_addr::parse(&args.listen).context("--listen")?;
            let (leaf_host, leaf_port) = crate::listen_addr::parse(&args.leaf_listen).context("--leaf-listen")?;
            anyhow::ensure!(
                leaf_host == host,
                "--listen and --leaf-listen must use the same host (got {host} and {leaf_host})"
            );
            let server = NatsServer::builder("hub")
                .jetstream_domain(replay::HUB_DOMAIN)
                .sync_always()
                .listen_host(&host)
                .client_port(port)
                .leaf_port(leaf_port)
                .data_dir(args.data_dir.join("nats"))
                .start()
                .await
                .context("starting the hub's nats-server")?;
            (server.client_url(), Some(Supervisor::start(server)))
        }
    };
    let client = crate::hub_connection::connect_local(&url, "edgefleet-hub").await?;
    let js = async_nats::jetstream::new(client.clone());
    let policy = StreamPolicy::default();
    replay::ensure_intent_stream(&js, &policy).await?;

    let directory = Rc::new(SiteDirectory::load(js.clone(), policy).await?);
    let view = Rc::new(FleetView::default());
    let tasks = vec![
        actix_rt::spawn(site_directory::listen(directory.clone(), client.clone())),
        actix_rt::spawn(fleet_view::follow(view.clone(), directory.clone(), js.clone())),
    ];
    let hub =
        crate::registries::Registries::start(client.clone(), events::Origin::Hub, &args.data_dir.join("hub.redb"))
            .await?;
    let orchestrator = actix_rt::spawn(rollouts::run(Rc::new(hub.clone()), directory.clone(), view.clone()));
    let service = api::start(
        client.clone(),
        api::ApiContext {
            directory: directory.clone(),
            view: view.clone(),
            hub,
            js: js.clone(),
        },
    )
    .await?;
    println!(
        "hub running: clients on {url}, sites connect to nats-leaf://{}",
        args.leaf_listen
    );
    crate::shutdown::wait_for_signal().await?;
    orchestrator.abort();
    for task in tasks {
        task.abort();
    }
    service.stop().await;
    if let Some(supervisor) = supervisor {
        supervisor.stop().await;
    }
    println!("hub stopped");
    Ok(ExitCode::SUCCESS)
}
