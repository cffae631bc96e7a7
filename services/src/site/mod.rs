//! `edgefleet site`: one edge site — its leaf nats-server (JetStream domain = site id), its streams, its
//! projection, its planner, the agents' endpoint, and the beacon that tells the hub it exists. Nothing here waits
//! on the hub.
//!
//! Shape (DESIGN §10): one projection of the site's own stream and its copy of the intents; the pure `plan_site`
//! over it and what the site observes of its agents and runtime, carried out through the site's actors.

mod agent_endpoint;
mod agent_runtime;
mod cluster_runtime;
mod config_cache;
mod controller;
mod executor;
mod gate_samples;
mod hub_beacon;
mod local_logs;
mod nats_shaper;
mod node_access;
mod observer;
mod planner;
mod site_cluster;
mod site_logs;
mod site_metrics;
pub mod site_runtime;
pub mod site_trust;

pub(crate) use nats_shaper::meta_group as site_nats_meta_group;

use crate::cli::SiteArgs;
use crate::data_dir_lock::DataDirLock;
use crate::leadership::Leadership;
use crate::process_projection::ProcessProjection;
use crate::registries::{dispatch, Registries};
use crate::server_supervisor::Supervisor;
use actors::maintenance_window::SiteZone;
use actors::site::SiteCommand;
use agent_endpoint::AgentEndpoint;
use anyhow::Context;
use events::{subject, AggregateRef, Origin, Token};
use executor::SiteExecutor;
use nats_process::{ClientCredentials, NatsServer};
use node_access::NodeAccess;
use observer::SiteObserver;
use planner::SitePlanner;
use replay::{LocalStore, Quarantine, StreamPolicy};
use site_cluster::SiteCluster;
use site_trust::SiteTrust;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::Notify;

/// Runs a site until SIGTERM, SIGINT or SIGHUP.
pub async fn run(args: SiteArgs) -> anyhow::Result<ExitCode> {
    let mut signals = crate::shutdown::ShutdownSignals::listen()?;
    let zone = SiteZone::new(&args.timezone)
        .map_err(anyhow::Error::msg)
        .context("--timezone")?;
    let image = args.site_image()?;
    // First of all: one site process per data dir.
    let _lock = DataDirLock::acquire(&args.data_dir)?;
    // A wrong --metrics-listen fails before anything starts.
    let metrics_listener = args.metrics.bind().await?;
    let trust = SiteTrust::resolve(&args)?;
    let metrics_listener = match metrics_listener {
        Some(listener) => Some(args.metrics.secure(listener, &trust.tls.cert, &trust.tls.key)?),
        None => None,
    };
    let site = trust.site.clone();
    let store = LocalStore::open(&args.data_dir.join("site.redb"))?;
    // The nodes that joined before a restart get in at once, before the projection has caught up.
    let joined = match store.load_projection() {
        Ok(Some(fleet)) => node_access::node_keys(&fleet, &site),
        _ => Vec::new(),
    };
    let cluster = SiteCluster::from_args(&args.cluster_member, &site, &trust.join_token, &args.data_dir)?;
    let fixed_users = node_access::FixedUsers {
        process_user: trust.process_key.public_key(),
        join_token: trust.join_token.clone(),
        local_readers: trust.local_readers.clone(),
        system_password: cluster.as_ref().map(|c| c.system_password.clone()),
    };
    let auth = NodeAccess::render(&site, &fixed_users, joined.clone())?;
    let (host, port) = crate::listen_addr::parse(&args.listen).context("--listen")?;
    let server_name = cluster.as_ref().map_or(site.to_string(), |c| c.server_name.clone());
    let mut builder = NatsServer::builder(&server_name)
        .jetstream_domain(site.as_str())
        .sync_always()
        .listen_host(&host)
        .client_port(port)
        .tls(trust.tls.clone())
        .leaf_remote_to(trust.leaf.clone())
        .auth_config(&auth)
        .client_credentials(ClientCredentials::NKeySeed(trust.process_key.seed()))
        .data_dir(args.data_dir.join("nats"));
    let mut witness = None;
    let server = match &cluster {
        None => builder.start().await,
        Some(cluster) => {
            builder = builder
                .cluster(cluster.member_routes(&site))
                .server_tags(&[site_cluster::MEMBER_TAG])
                .extra_config(site_cluster::DEAD_PEER_DETECTION);
            // The member and its witness start together: each waits for the other to elect a meta leader.
            let witness_key = fleet_trust::UserKey::generate();
            let witness_auth = NodeAccess::render(
                &site,
                &node_access::FixedUsers {
                    process_user: witness_key.public_key(),
                    ..fixed_users.clone()
                },
                Vec::new(),
            )?;
            let credentials = ClientCredentials::NKeySeed(witness_key.seed());
            let (server, started) = tokio::join!(
                builder.start(),
                cluster.start_witness(&site, &trust.tls, &witness_auth, credentials)
            );
            witness = started?;
            server
        }
    }
    .context("starting the site's leaf nats-server")?;
    tracing::info!(%site, server = %server_name, url = %server.client_url(), hub_leaf = %trust.leaf.url,
        clustered = cluster.is_some(), "site nats-server up");
    let client_url = server.client_url();
    let options = server.connect_options().await?.name(format!("edgefleet-site-{site}"));
    let supervisor = Supervisor::start(server);
    let client = crate::hub_connection::connect_local(&client_url, options).await?;
    let js = async_nats::jetstream::new(client.clone());
    let policy = StreamPolicy {
        site_max_bytes: args.events_max_bytes,
        ..StreamPolicy::default()
    };
    replay::ensure_site_stream(&js, &site, &policy).await.with_context(|| {
        format!(
            "setting up the site's event stream (--events-max-bytes {})",
            args.events_max_bytes
        )
    })?;
    let telemetry_limits = telemetry::TelemetryLimits {
        max_bytes: args.telemetry_max_bytes,
        max_age: args.telemetry_max_age,
    };
    telemetry::telemetry_streams::ensure_site_telemetry_stream(&js, &site, telemetry_limits)
        .await
        .with_context(|| {
            format!(
                "setting up the site's telemetry stream (--telemetry-max-bytes {})",
                args.telemetry_max_bytes
            )
        })?;
    let intents: Vec<_> = fleet_trust::site_intent_sources(&site).iter().map(source).collect();
    replay::ensure_site_copy_of_intents(&js, intents.clone(), &policy).await?;
    let images = source(&fleet_trust::site_image_source(&site));
    replay::sourcing::ensure_site_image_replica(&js, images.clone()).await?;
    let sourced_copies: hub_beacon::SourcedCopies = vec![
        (subject::INTENT_STREAM.to_string(), intents),
        (format!("OBJ_{}", replay::sourcing::IMAGE_BUCKET), vec![images]),
    ];

    let quarantine = Quarantine::persisted(store.clone());
    let homes = replay::StreamHomes::single(js.clone());
    let projection = ProcessProjection::start(homes.clone(), store.clone(), quarantine.clone()).await?;
    projection.follow(&subject::site_stream(&site));
    projection.follow(subject::INTENT_STREAM);
    let registries = Registries::start(homes, Origin::Site(site.clone()), store, quarantine);
    let register = SiteCommand::Register {
        timezone: zone.name().to_string(),
        controller_version: env!("CARGO_PKG_VERSION").into(),
    };
    dispatch(&registries.sites, AggregateRef::site(&site), register, "controller").await?;

    let observer = Rc::new(SiteObserver::new());
    let (runtime, agents_runtime) = match args.runtime {
        site_runtime::RuntimeKind::Simulated => {
            let simulated = cluster_runtime::SimulatedRuntime::open(args.data_dir.join("runtime.json"));
            (Rc::new(site_runtime::SiteRuntime::Simulated(simulated)), None)
        }
        site_runtime::RuntimeKind::K3s => {
            let agents = Rc::new(agent_runtime::AgentRuntime::new(observer.clone(), args.silent_after()));
            (Rc::new(site_runtime::SiteRuntime::Agents(agents.clone())), Some(agents))
        }
    };
    let wake = Arc::new(Notify::new());
    let access = Rc::new(NodeAccess::new(
        site.clone(),
        fixed_users,
        projection.projection.clone(),
        supervisor.control(),
        joined,
    ));
    let planner = Rc::new(SitePlanner {
        site: site.clone(),
        image,
        zone,
        silent_after: args.silent_after(),
        lost_after: args.lost_after(),
        projection: projection.projection.clone(),
        observer: observer.clone(),
        runtime: runtime.clone(),
        executor: SiteExecutor::new(site.clone(), registries.clone(), runtime, projection.projection.clone()),
        gates: gate_samples::GateSamples::new(site.clone(), js.clone()),
    });
    let endpoint = Rc::new(AgentEndpoint {
        site: site.clone(),
        registries: registries.clone(),
        projection: projection.projection.clone(),
        observer: observer.clone(),
        planner: wake.clone(),
        access: access.clone(),
        joins: tokio::sync::Mutex::new(()),
        js: js.clone(),
        agents_runtime,
    });
    let hub_link = Rc::new(hub_beacon::HubLink::default());
    let mut tasks = vec![
        actix_rt::spawn(local_logs::serve(site.clone(), client.clone(), js.clone())),
        actix_rt::spawn(node_access::run(access)),
    ];
    // The site controller: everywhere on a single-server site; under the controller lease on a clustered one.
    let system = match &cluster {
        Some(cluster) => Some(system_client(&client_url, &trust, cluster).await?),
        None => None,
    };
    let leadership = match &cluster {
        None => Rc::new(Leadership::sole()),
        Some(cluster) => {
            let leadership = Rc::new(Leadership::default());
            tasks.push(actix_rt::spawn(crate::leadership::keep(
                js.clone(),
                1,
                crate::leadership::SITE_CONTROLLER,
                cluster.server_name.clone(),
                leadership.clone(),
                wake.clone(),
            )));
            leadership
        }
    };
    let controller = {
        let (site, client, js, projection) = (site.clone(), client.clone(), js.clone(), projection.projection.clone());
        let (observer, hub_link, system) = (observer.clone(), hub_link.clone(), system.clone());
        move || {
            let mut running = vec![
                actix_rt::spawn(config_cache::run(
                    site.clone(),
                    js.clone(),
                    projection.clone(),
                    registries.clone(),
                )),
                actix_rt::spawn(agent_endpoint::serve(endpoint.clone(), client.clone())),
                actix_rt::spawn(planner::run(planner.clone(), wake.clone())),
                actix_rt::spawn(hub_beacon::beacon(
                    site.clone(),
                    observer.clone(),
                    projection.clone(),
                    client.clone(),
                    sourced_copies.clone(),
                    hub_link.clone(),
                )),
            ];
            if let Some(system) = &system {
                running.push(actix_rt::spawn(nats_shaper::run(
                    site.clone(),
                    system.clone(),
                    js.clone(),
                    projection.clone(),
                )));
            }
            running
        }
    };
    let controller_tasks = controller::ControllerTasks::default();
    tasks.push(actix_rt::spawn(controller::lead(
        leadership,
        observer.clone(),
        controller_tasks.clone(),
        controller,
    )));
    if let (Some(witness), Some(cluster), Some(system)) = (witness, &cluster, &system) {
        let dir = args.data_dir.join("witness");
        tasks.push(actix_rt::spawn(nats_shaper::retire_witness(
            system.clone(),
            cluster.witness_name(),
            witness,
            dir,
        )));
    }
    if let Some(captured) = crate::process_logs::captured().filter(|_| !args.logs_shipped_by_agent) {
        let shipper = crate::log_shipper::LogShipper::new(captured);
        tasks.push(actix_rt::spawn(site_logs::ship(shipper, js.clone(), site.clone())));
    }
    if let Some(listener) = metrics_listener {
        let metrics = Rc::new(site_metrics::SiteMetrics {
            site: site.clone(),
            projection: projection.projection.clone(),
            link: hub_link,
            js: js.clone(),
        });
        tasks.push(actix_rt::spawn(listener.serve(move || {
            let metrics = metrics.clone();
            async move { metrics.render().await }
        })));
    }
    println!(
        "site {site} running: clients on {client_url} (TLS, CA {}), hub link {}\n\
         nodes join with: edgefleet agent --site-nats {client_url} --ca {} --join-token {} …",
        trust.agent_ca.display(),
        trust.leaf.url,
        trust.agent_ca.display(),
        trust.join_token_path.display()
    );
    let signal = signals.wait().await;
    tracing::info!(%site, %signal, "stopping");
    for task in tasks.into_iter().chain(controller_tasks.take()) {
        task.abort();
    }
    projection.stop();
    supervisor.stop().await;
    println!("site {site} stopped");
    Ok(ExitCode::SUCCESS)
}

/// A client of the site's system account on its own server, for the shape of the site's NATS cluster.
async fn system_client(url: &str, trust: &SiteTrust, cluster: &SiteCluster) -> anyhow::Result<async_nats::Client> {
    async_nats::ConnectOptions::with_user_and_password(
        fleet_trust::SYSTEM_USER.to_owned(),
        cluster.system_password.clone(),
    )
    .add_root_certificates(trust.tls.ca.clone())
    .require_tls(true)
    .name("edgefleet-site-system")
    // The server may be reloading its users (a node joined) at this instant, and refuse for that moment.
    .retry_on_initial_connect()
    .connect(url)
    .await
    .context("connecting to the site's system account")
}

/// A stream source through the site account's imports at the hub.
fn source(spec: &fleet_trust::ExternalSource) -> async_nats::jetstream::stream::Source {
    async_nats::jetstream::stream::Source {
        name: spec.stream.clone(),
        filter_subject: spec.filter_subject.clone(),
        external: Some(async_nats::jetstream::stream::External {
            api_prefix: spec.api_prefix.clone(),
            delivery_prefix: Some(spec.deliver_prefix.clone()),
        }),
        ..Default::default()
    }
}

impl SiteArgs {
    /// The site image's cluster definition, if a profile was given.
    fn site_image(&self) -> anyhow::Result<Option<actors::site_reconcile::SiteImage>> {
        let Some(profile) = &self.cluster_profile else {
            return Ok(None);
        };
        Ok(Some(actors::site_reconcile::SiteImage {
            cluster: Token::new(self.cluster.clone()).context("--cluster")?,
            profile: profile.clone(),
        }))
    }

    fn silent_after(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.silent_after_s.max(1))
    }

    /// Never shorter than silence: a node is silent before it is lost.
    fn lost_after(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.lost_after_s.max(1)).max(self.silent_after())
    }
}
