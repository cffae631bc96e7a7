//! `edgefleet hub`: the management plane — the fleet's trust root (created on the first start), the hub's
//! nats-server (embedded, supervised, operator mode, TLS), the intent stream, a copy of every added site's stream
//! in that site's own account, the hub's projection, its planner, and the API.
//!
//! Shape (DESIGN §10): one projection of `EF_INTENT` and every site copy; the pure `plan_hub` over it, carried out
//! through the hub's actors; the API reads the projection and writes through the actors. Nothing that matters
//! after a restart lives only in memory.

mod api;
pub mod copy_watch;
pub mod hub_server;
mod planner;
mod site_accounts;
pub mod site_directory;
pub mod storage_watch;

use crate::cli::HubArgs;
use crate::data_dir_lock::DataDirLock;
use crate::process_projection::ProcessProjection;
use crate::server_supervisor::Supervisor;
use anyhow::Context;
use fleet_trust::TrustRoot;
use replay::{LocalStore, Quarantine, StreamHomes, StreamPolicy};
use site_directory::{HubAccess, SiteDirectory};
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
    let trust = Rc::new(TrustRoot::open_or_create(&args.data_dir).context("the fleet's trust root")?);
    let started = hub_server::start(&args, &trust).await?;
    let (url, ca, leaf_url) = (
        started.server.client_url(),
        started.ca.clone(),
        started.leaf_url.clone(),
    );
    let (store_dir, log_path) = (started.server.store_dir(), started.server.log_path());
    let hub_options = started.server.connect_options().await?.name("edgefleet-hub");
    let supervisor = Supervisor::start(started.server);
    let storage = Rc::new(StorageWatch::new(store_dir, log_path, Some(supervisor.control())));
    let client = crate::hub_connection::connect_local(&url, hub_options).await?;
    let connect_as = |creds: std::path::PathBuf, name: &'static str| {
        let (url, ca) = (url.clone(), ca.clone());
        async move {
            let options = async_nats::ConnectOptions::new()
                .name(name)
                .credentials_file(&creds)
                .await
                .with_context(|| format!("reading {}", creds.display()))?
                .add_root_certificates(ca)
                .require_tls(true);
            crate::hub_connection::connect_local(&url, options).await
        }
    };
    let system = connect_as(trust.layout().system_creds(), "edgefleet-hub-system").await?;
    let api_client = connect_as(trust.layout().api_creds(), "edgefleet-hub-api").await?;
    let js = async_nats::jetstream::new(client.clone());
    let policy = StreamPolicy::default();
    replay::ensure_intent_stream(&js, &policy).await?;

    let access = HubAccess {
        url: url.clone(),
        ca: ca.clone(),
        system,
    };
    let homes = StreamHomes::single(js.clone());
    let accounts = site_directory::connect_accounts(&trust, &access, &homes).await?;
    let store = LocalStore::open(&args.data_dir.join("hub.redb"))?;
    let quarantine = Quarantine::persisted(store.clone());
    let projection = Rc::new(ProcessProjection::start(homes.clone(), store.clone(), quarantine.clone()).await?);
    projection.follow(events::subject::INTENT_STREAM);
    let directory = SiteDirectory::start(
        trust.clone(),
        access,
        policy,
        homes.clone(),
        projection.clone(),
        accounts,
    )
    .await?;
    let log = replay::JetStreamLog::with_homes(homes.clone(), quarantine.clone());
    let hub = crate::registries::Registries::start(homes, events::Origin::Hub, store, quarantine);
    let wake = Arc::new(Notify::new());
    let tasks = vec![
        actix_rt::spawn(storage_watch::watch(storage.clone())),
        actix_rt::spawn(planner::run(
            projection.projection.clone(),
            directory.clone(),
            hub.clone(),
            wake.clone(),
        )),
    ];
    let service = api::start(
        api_client,
        api::ApiContext {
            directory: directory.clone(),
            projection: projection.projection.clone(),
            hub,
            planner: wake,
            storage,
            trust: trust.clone(),
            leaf_url: leaf_url.clone(),
            hub_ca: ca.clone(),
            log,
        },
    )
    .await?;
    let layout = trust.layout();
    println!(
        "hub running: clients on {url} (TLS), sites connect to {leaf_url}\n\
         admin credentials: {}\nCA: {}\n\
         e.g. EDGEFLEET_HUB={url} EDGEFLEET_CREDS={} EDGEFLEET_CA={} edgefleet sites ls",
        layout.admin_creds().display(),
        ca.display(),
        layout.admin_creds().display(),
        ca.display(),
    );
    let signal = signals.wait().await;
    tracing::info!(%signal, "stopping");
    for task in tasks {
        task.abort();
    }
    directory.stop();
    service.stop().await;
    projection.stop();
    supervisor.stop().await;
    println!("hub stopped");
    Ok(ExitCode::SUCCESS)
}
