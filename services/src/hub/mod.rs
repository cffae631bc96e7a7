//! `edgefleet hub`: the management plane — the fleet's trust root (created on the first start), the hub's
//! nats-server (embedded, supervised, operator mode, TLS), the intent stream, a copy of every added site's stream
//! in that site's own account, the hub's projection, its planner, and the API.
//!
//! Shape (DESIGN §10): one projection of `EF_INTENT` and every site copy; the pure `plan_hub` over it, carried out
//! through the hub's actors; the API reads the projection and writes through the actors. Nothing that matters
//! after a restart lives only in memory.

mod api;
pub mod copy_watch;
pub mod dashboard;
mod hub_metrics;
pub mod hub_server;
pub mod planner;
mod site_accounts;
pub mod site_directory;
pub mod storage_watch;
pub mod telemetry_delivery;
pub mod trust_copy;
pub mod trust_replica;

use crate::cli::HubArgs;
use crate::data_dir_lock::DataDirLock;
use crate::leadership::{self, Leadership};
use crate::process_projection::ProcessProjection;
use crate::server_supervisor::Supervisor;
use anyhow::Context;
use fleet_trust::TrustRoot;
use replay::{LocalStore, Quarantine, StreamHomes, StreamPolicy};
use site_directory::{HubAccess, SiteDirectory};
use std::future::Future;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage_watch::StorageWatch;
use tokio::sync::Notify;
use trust_replica::TrustReplica;

/// Runs the hub until SIGTERM, SIGINT or SIGHUP.
pub async fn run(args: HubArgs) -> anyhow::Result<ExitCode> {
    let mut signals = crate::shutdown::ShutdownSignals::listen()?;
    // First of all: one hub per data dir. Nothing below may touch the dir before this succeeds.
    let _lock = DataDirLock::acquire(&args.data_dir)?;
    // A wrong --metrics-listen or --http-listen fails before anything starts.
    let metrics_listener = args.metrics.bind().await?;
    let http_listener = match &args.http_listen {
        Some(addr) => Some(dashboard::bind(addr, args.http_tls).await?),
        None => None,
    };
    if let Some(from) = &args.cluster.trust_from {
        if trust_copy::copy_trust_root(from, &args.data_dir)? {
            tracing::info!(from = %from.display(), "joined the fleet of another hub: its trust root was copied");
        }
    }
    let trust = Rc::new(TrustRoot::open_or_create(&args.data_dir).context("the fleet's trust root")?);
    let started = hub_server::start(&args, &trust).await?;
    let (url, ca, leaf_url) = (
        started.server.client_url(),
        started.ca.clone(),
        started.leaf_url.clone(),
    );
    let metrics_listener = match metrics_listener {
        Some(listener) => Some(args.metrics.secure(listener, &started.tls.cert, &started.tls.key)?),
        None => None,
    };
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
    let trust_client = connect_as(trust.layout().trust_creds(), "edgefleet-hub-trust").await?;
    let js = async_nats::jetstream::new(client.clone());
    let replicas = args.cluster.replicas();
    let policy = StreamPolicy {
        intent_replicas: replicas,
        ..StreamPolicy::default()
    };
    // A hub alone reports a failure at once; one of a cluster waits for the others to come up.
    let patience = if args.cluster.clustered() {
        CLUSTER_FORMING
    } else {
        Duration::ZERO
    };
    shared_set_up("the intent stream", patience, || {
        replay::ensure_intent_stream(&js, &policy)
    })
    .await?;
    shared_set_up("the image bucket", patience, || {
        replay::sourcing::ensure_hub_image_store(&js, replicas)
    })
    .await?;
    let (trust_js, trust_dir) = (async_nats::jetstream::new(trust_client), trust.layout().trust_dir());
    let replica = shared_set_up("the shared trust", patience, || {
        TrustReplica::open(&trust_js, &trust_dir, replicas, &args.cluster.server_name)
    })
    .await?;

    let cursors = shared_set_up("the telemetry cursors", patience, || {
        telemetry::cursor_store::CursorStore::open(&js, replicas)
    })
    .await?;
    let remote_write_client =
        telemetry::HttpClient::new(args.remote_write_ca.as_deref()).context("--remote-write-ca")?;
    let telemetry = Rc::new(telemetry_delivery::TelemetryDelivery::new(
        args.remote_write.clone(),
        remote_write_client,
        Some(cursors),
    ));
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
    let leadership = Rc::new(Leadership::default());
    let directory = SiteDirectory::start(
        trust.clone(),
        access,
        policy,
        homes.clone(),
        projection.clone(),
        accounts,
        site_directory::ClusterRoles {
            leadership: leadership.clone(),
            replica: replica.clone(),
        },
    )
    .await?;
    let log = replay::JetStreamLog::with_homes(homes.clone(), quarantine.clone());
    let hub = crate::registries::Registries::start(homes, events::Origin::Hub, store, quarantine);
    let wake = Arc::new(Notify::new());
    let mut tasks = vec![
        actix_rt::spawn(storage_watch::watch(storage.clone())),
        actix_rt::spawn(leadership::keep(
            js.clone(),
            replicas,
            leadership::HUB_ORCHESTRATOR,
            args.cluster.server_name.clone(),
            leadership.clone(),
            wake.clone(),
        )),
        actix_rt::spawn(replica.clone().follow()),
        actix_rt::spawn(rescan_on_trust_changes(directory.clone(), replica.changed.clone())),
        actix_rt::spawn(planner::run(
            projection.projection.clone(),
            directory.clone(),
            hub.clone(),
            wake.clone(),
            leadership.clone(),
        )),
        actix_rt::spawn(telemetry_delivery::follow(telemetry.clone())),
        actix_rt::spawn(telemetry_delivery::deliver(
            telemetry.clone(),
            directory.clone(),
            leadership,
        )),
    ];
    if let Some(listener) = metrics_listener {
        let metrics = hub_metrics::HubMetrics {
            directory: directory.clone(),
            projection: projection.projection.clone(),
            telemetry: telemetry.clone(),
        };
        tasks.push(actix_rt::spawn(
            listener.serve(move || std::future::ready(metrics.render())),
        ));
    }
    let dashboard_links = match &http_listener {
        Some(listener) => Some(api::DashboardLinks {
            base_url: dashboard::base_url(listener.local_addr()?, args.http_tls, &args.tls_names),
            passes: Arc::new(dashboard::passes::Passes::open_or_create(&args.data_dir)?),
        }),
        None => None,
    };
    let api_context = Rc::new(api::ApiContext {
        directory: directory.clone(),
        projection: projection.projection.clone(),
        hub,
        planner: wake,
        storage,
        trust: trust.clone(),
        leaf_url: leaf_url.clone(),
        hub_ca: ca.clone(),
        log,
        telemetry,
        dashboard: dashboard_links,
    });
    let service = api::start(api_client, api_context.clone()).await?;
    if let (Some(listener), Some(links)) = (http_listener, &api_context.dashboard) {
        let (bridge, requests) = dashboard::api_bridge::ApiBridge::new();
        tasks.push(actix_rt::spawn(dashboard::api_bridge::serve(
            api_context.clone(),
            requests,
        )));
        println!(
            "dashboard on {} (sign in with a link from `edgefleet dashboard url`)",
            links.base_url
        );
        let served = dashboard::Dashboard {
            bridge,
            passes: links.passes.clone(),
            changes: projection.projection.changes(),
            secure: args.http_tls,
        };
        let tls = match args.http_tls {
            true => Some(telemetry::metrics_server::tls_acceptor(
                &started.tls.cert,
                &started.tls.key,
            )?),
            false => None,
        };
        tasks.push(actix_rt::spawn(dashboard::serve(listener, served, tls)));
    }
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

/// How long set-up waits for a forming cluster's JetStream (a quorum of hubs up and a meta leader elected).
const CLUSTER_FORMING: Duration = Duration::from_secs(60);

/// Sets up something shared in JetStream, trying again for `patience` (while a cluster is still forming).
async fn shared_set_up<T, E, F, Fut>(what: &str, patience: Duration, mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<anyhow::Error>,
{
    let started = Instant::now();
    loop {
        match attempt().await {
            Ok(done) => return Ok(done),
            Err(e) if started.elapsed() < patience => {
                let e: anyhow::Error = e.into();
                tracing::info!(error = %format!("{e:#}"), "{what}: JetStream not ready yet; trying again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e.into()).with_context(|| format!("setting up {what}")),
        }
    }
}

/// Attaches what other hubs of the cluster add to the shared trust: at once when the bucket changes, and every
/// [`RESCAN_EVERY`] in case a site's files arrived before its account reached this hub's server.
async fn rescan_on_trust_changes(directory: Rc<SiteDirectory>, changed: Arc<Notify>) {
    loop {
        tokio::select! {
            _ = changed.notified() => {}
            _ = tokio::time::sleep(RESCAN_EVERY) => {}
        }
        if let Err(e) = directory.rescan().await {
            tracing::warn!(error = %format!("{e:#}"), "picking up the cluster's trust changes; trying again");
        }
    }
}

/// How often the shared trust is checked again without a change.
const RESCAN_EVERY: Duration = Duration::from_secs(10);
