//! `edgefleet site`: one edge site — its leaf nats-server (JetStream domain = site id), its streams, the site
//! controller, and the beacon that tells the hub it exists. Nothing here waits on the hub.

mod agent_endpoint;
mod cluster_runtime;
mod controller;
mod hub_beacon;
mod intent_watcher;
mod liveness;
mod os_updates;

use crate::cli::SiteArgs;
use crate::registries::Registries;
use crate::server_supervisor::Supervisor;
use anyhow::Context;
use controller::SiteController;
use events::{Origin, Token};
use nats_process::NatsServer;
use replay::StreamPolicy;
use std::process::ExitCode;
use std::rc::Rc;

/// Runs a site until SIGTERM or Ctrl-C.
pub async fn run(args: SiteArgs) -> anyhow::Result<ExitCode> {
    let site = Token::new(args.site_id.clone()).context("--site-id")?;
    anyhow::ensure!(
        site.as_str() != "all" && site.as_str() != "hub",
        "--site-id {site} is reserved"
    );
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let (host, port) = crate::listen_addr::parse(&args.listen).context("--listen")?;
    let server = NatsServer::builder(site.as_str())
        .jetstream_domain(site.as_str())
        .sync_always()
        .listen_host(&host)
        .client_port(port)
        .leaf_remote(&args.hub_leaf)
        .data_dir(args.data_dir.join("nats"))
        .start()
        .await
        .context("starting the site's leaf nats-server")?;
    tracing::info!(%site, url = %server.client_url(), hub_leaf = %args.hub_leaf, "site nats-server up");
    let client = crate::hub_connection::connect_local(&server.client_url(), &format!("edgefleet-site-{site}")).await?;
    let js = async_nats::jetstream::new(client.clone());
    let policy = StreamPolicy::default();
    replay::ensure_site_stream(&js, &site, &policy).await?;
    replay::ensure_site_copy_of_intents(&js, &site, &policy).await?;
    replay::sourcing::ensure_site_image_replica(&js).await?;

    let registries = Registries::start(
        client.clone(),
        Origin::Site(site.clone()),
        &args.data_dir.join("site.redb"),
    )
    .await?;
    let image = args.site_image()?;
    let runtime = cluster_runtime::SimulatedRuntime::open(args.data_dir.join("runtime.json"));
    let controller = Rc::new(SiteController::new(
        site.clone(),
        registries,
        image,
        args.silent_after(),
        runtime,
    ));
    controller.register_site(&args.timezone).await?;
    let client_url = server.client_url();
    let supervisor = Supervisor::start(server);

    let tasks = vec![
        actix_rt::spawn(agent_endpoint::serve(controller.clone(), client.clone())),
        actix_rt::spawn(intent_watcher::watch(controller.clone(), js.clone())),
        actix_rt::spawn(liveness::watch(controller.clone())),
        actix_rt::spawn(os_updates::watch(controller.clone())),
        actix_rt::spawn(hub_beacon::beacon(controller.clone(), client.clone(), js.clone())),
    ];
    println!(
        "site {site} running: clients on {client_url}, hub link {}",
        args.hub_leaf
    );
    crate::shutdown::wait_for_signal().await?;
    for task in tasks {
        task.abort();
    }
    supervisor.stop().await;
    println!("site {site} stopped");
    Ok(ExitCode::SUCCESS)
}

impl SiteArgs {
    /// The site image's cluster definition, if a profile was given.
    fn site_image(&self) -> anyhow::Result<Option<actors::site_reconcile::SiteImage>> {
        let Some(profile) = &self.cluster_profile else {
            return Ok(None);
        };
        let (name, version) = profile
            .split_once('@')
            .with_context(|| format!("--cluster-profile {profile:?} must be NAME@VERSION"))?;
        let profile = events::cluster::ProfileRef {
            name: Token::new(name).context("--cluster-profile name")?,
            version: version
                .parse()
                .with_context(|| format!("--cluster-profile version {version:?}"))?,
        };
        Ok(Some(actors::site_reconcile::SiteImage {
            cluster: Token::new(self.cluster.clone()).context("--cluster")?,
            profile,
        }))
    }

    fn silent_after(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.silent_after_s.max(1))
    }
}
