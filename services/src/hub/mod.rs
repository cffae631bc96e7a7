//! `edgefleet hub`: the management plane — the hub's nats-server (embedded and supervised, or external), the
//! intent stream, automatic sourcing of every site that appears, the hub's projection, its planner, and the API.
//!
//! Shape (DESIGN §10): one projection of `EF_INTENT` and every site copy; the pure `plan_hub` over it, carried out
//! through the hub's actors; the API reads the projection and writes through the actors. Nothing that matters
//! after a restart lives only in memory.

mod api;
mod planner;
pub mod site_directory;
pub mod storage_watch;

use crate::cli::HubArgs;
use crate::data_dir_lock::DataDirLock;
use crate::process_projection::ProcessProjection;
use crate::server_supervisor::Supervisor;
use anyhow::Context;
use nats_process::NatsServer;
use replay::{LocalStore, Quarantine, StreamPolicy};
use site_directory::SiteDirectory;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use storage_watch::StorageWatch;
use tokio::sync::Notify;

/// Runs the hub until SIGTERM, SIGINT or SIGHUP.
pub async fn run(args: HubArgs) -> anyhow::Result<ExitCode> {
    let mut signals = crate::shutdown::ShutdownSignals::listen()?;
    // First of all: one hub per data dir. Nothing below may touch the dir before this succeeds.
    let _lock = DataDirLock::acquire(&args.data_dir)?;
    let (url, supervisor, storage) = match &args.nats_url {
        Some(url) => (url.clone(), None, StorageWatch::none()),
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
            let (store_dir, log_path) = (server.store_dir(), server.log_path());
            let url = server.client_url();
            let supervisor = Supervisor::start(server);
            let storage = StorageWatch::new(store_dir, log_path, Some(supervisor.restarter()));
            (url, Some(supervisor), storage)
        }
    };
    let client = crate::hub_connection::connect_local(&url, "edgefleet-hub").await?;
    let js = async_nats::jetstream::new(client.clone());
    let policy = StreamPolicy::default();
    replay::ensure_intent_stream(&js, &policy).await?;

    let store = LocalStore::open(&args.data_dir.join("hub.redb"))?;
    let quarantine = Quarantine::persisted(store.clone());
    let projection = Rc::new(ProcessProjection::start(js.clone(), store.clone(), quarantine.clone()).await?);
    projection.follow(events::subject::INTENT_STREAM);
    let directory = Rc::new(SiteDirectory::load(js.clone(), policy, projection.clone()).await?);
    let hub = crate::registries::Registries::start(client.clone(), events::Origin::Hub, store, quarantine);
    let storage = Rc::new(storage);
    let wake = Arc::new(Notify::new());
    let tasks = vec![
        actix_rt::spawn(site_directory::listen(directory.clone(), client.clone())),
        actix_rt::spawn(storage_watch::watch(storage.clone())),
        actix_rt::spawn(planner::run(
            projection.projection.clone(),
            directory.clone(),
            hub.clone(),
            wake.clone(),
        )),
    ];
    let service = api::start(
        client.clone(),
        api::ApiContext {
            directory: directory.clone(),
            projection: projection.projection.clone(),
            hub,
            planner: wake,
            storage,
        },
    )
    .await?;
    println!(
        "hub running: clients on {url}, sites connect to nats-leaf://{}",
        args.leaf_listen
    );
    let signal = signals.wait().await;
    tracing::info!(%signal, "stopping");
    for task in tasks {
        task.abort();
    }
    service.stop().await;
    projection.stop();
    if let Some(supervisor) = supervisor {
        supervisor.stop().await;
    }
    println!("hub stopped");
    Ok(ExitCode::SUCCESS)
}
