//! `edgefleet node --site-image FILE --data-dir DIR`: the one process every machine of a site runs (issue 13). It
//! always runs the node agent; it runs the site's services (the site's NATS and controller) on the machine that
//! serves the site. Which machine that is, is settled on the LAN with no address configured: machines announce
//! themselves by broadcast ([`lan_discovery`]) and each decides with the pure `actors::plan::plan_discovery` —
//! join a site that is served, else after the settle time the lowest id among the machines seeking bootstraps it.
//!
//! The machine that bootstraps runs the site's NATS as a cluster member beside a witness (`site::site_cluster`).
//! A machine that joined runs only its agent until the site's log makes it a control-plane member (the site's
//! planner promotes one worker at a time); then it serves the site too: a member of the site's NATS cluster, routed
//! to the machines heard serving (`site_routes`), with the site's services in-process, the controller among them
//! running wherever the controller lease is held.

mod lan_discovery;
pub mod site_image_file;
mod site_routes;

use crate::cli::{AgentArgs, NodeArgs, SiteArgs};
use actors::plan::{plan_discovery, DiscoveryInputs, DiscoveryStep, MachineIntent};
use anyhow::Context;
use clap::{Args, FromArgMatches};
use events::Token;
use lan_discovery::LanDiscovery;
use site_image_file::SiteImage;
use site_routes::SiteRoutes;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long a machine not heard is remembered.
const FORGET_AFTER: Duration = Duration::from_secs(3);
/// How often the discovery decision is taken again while waiting.
const DECIDE_EVERY: Duration = Duration::from_millis(250);
/// How long the site's services may take to accept connections once started.
const SITE_START_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the machine until SIGTERM or Ctrl-C.
pub async fn run(args: NodeArgs) -> anyhow::Result<ExitCode> {
    let image = SiteImage::load(&args.site_image)?;
    let node = match &args.node_id {
        Some(id) => Token::new(id.clone()).context("--node-id")?,
        None => machine_id()?,
    };
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let site_dir = args.data_dir.join("site");
    let served_before = site_dir.join("site.redb").exists();
    let discovery = Rc::new(
        LanDiscovery::bind(image.site.clone(), node.clone(), image.discovery_port, args.broadcast)
            .await
            .with_context(|| format!("listening for the site's machines on UDP port {}", image.discovery_port))?,
    );
    let announcing = actix_rt::spawn({
        let discovery = discovery.clone();
        async move { discovery.run().await }
    });
    println!(
        "node {node}: looking for site {} on the LAN (UDP {}, settle {} s)",
        image.site,
        image.discovery_port,
        image.settle.as_secs()
    );
    let address = match args.address {
        Some(address) => address,
        None => {
            site_routes::lan_address(args.broadcast).context("finding this machine's LAN address (pass --address)")?
        }
    };
    let machine = Machine {
        args: &args,
        image: &image,
        node: &node,
        site_dir: &site_dir,
        address,
        discovery: &discovery,
        serving: std::cell::Cell::new(false),
    };
    let code = match settle(&discovery, &node, served_before, image.settle).await {
        Acting::Serve => {
            discovery.say(Some(MachineIntent::Bootstrapping)).await;
            println!("node {node}: serving site {} from this machine", image.site);
            machine.serving.set(true);
            // A fresh bootstrap starts the witness; a machine that served before finds its own again (or not, once
            // retired).
            machine.serve_beside(machine.agent(), !served_before).await
        }
        Acting::Join(servers) => {
            discovery.say(None).await;
            let urls = servers
                .iter()
                .map(|s| format!("tls://{s}"))
                .collect::<Vec<_>>()
                .join(",");
            println!("node {node}: joining site {} at {urls}", image.site);
            machine.join(machine.agent()).await
        }
    };
    announcing.abort();
    code
}

/// What the machine does once discovery settled.
enum Acting {
    /// Serve the site from here.
    Serve,
    /// Join the site at these servers.
    Join(Vec<SocketAddr>),
}

/// Listens and decides until the machine serves or joins.
async fn settle(discovery: &LanDiscovery, node: &Token, served_before: bool, settle: Duration) -> Acting {
    let started = Instant::now();
    let mut said = String::new();
    loop {
        let heard = discovery.heard();
        let step = plan_discovery(&DiscoveryInputs {
            me: node,
            served_before,
            listening_ms: started.elapsed().as_millis() as u64,
            settle_ms: settle.as_millis() as u64,
            forget_after_ms: FORGET_AFTER.as_millis() as u64,
            heard: &heard,
        });
        match step {
            DiscoveryStep::Wait { reason } => {
                if !reason.starts_with("listening") && reason != said {
                    println!("node {node}: waiting: {reason}");
                    said = reason;
                }
                tokio::time::sleep(DECIDE_EVERY).await;
            }
            DiscoveryStep::Serve => return Acting::Serve,
            DiscoveryStep::Join { servers } => return Acting::Join(servers),
        }
    }
}

/// One machine of the site, once discovery settled.
struct Machine<'a> {
    args: &'a NodeArgs,
    image: &'a SiteImage,
    node: &'a Token,
    site_dir: &'a std::path::Path,
    address: std::net::IpAddr,
    discovery: &'a Rc<LanDiscovery>,
    /// This machine serves the site: its agent dials its own server first.
    serving: std::cell::Cell<bool>,
}

impl Machine<'_> {
    /// The site's servers as this machine knows them now: its own first when it serves, then every machine heard
    /// serving, sorted.
    fn site_urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self
            .discovery
            .heard()
            .iter()
            .filter(|m| m.heard_ms_ago <= FORGET_AFTER.as_millis() as u64)
            .filter_map(|m| match m.intent {
                MachineIntent::Serving { nats_port } => {
                    Some(format!("tls://{}", SocketAddr::new(m.from.ip(), nats_port)))
                }
                _ => None,
            })
            .collect();
        urls.sort();
        if self.serving.get() {
            urls.insert(0, format!("tls://127.0.0.1:{}", self.image.nats_port));
        }
        urls
    }

    /// The node's agent, talking to the site's servers this machine knows, and started again with the new list
    /// whenever that changes: async-nats learns a cluster's servers only when it connects, so an agent that joined a
    /// site of one server would otherwise keep dialling it after it is gone.
    async fn agent(&self) -> anyhow::Result<ExitCode> {
        loop {
            let urls = self.site_urls();
            let args = agent_args(self.args, self.image, self.node, self.address, &urls.join(","))?;
            let agent = crate::agent::run(args);
            tokio::pin!(agent);
            loop {
                tokio::select! {
                    ended = &mut agent => return ended,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                let now = self.site_urls();
                if !now.is_empty() && now != urls {
                    println!(
                        "node {}: the site's servers are now {}; the agent reconnects",
                        self.node,
                        now.join(",")
                    );
                    break;
                }
            }
        }
    }

    /// Runs `agent` (joined to a site served elsewhere) until the site's log makes this node a control-plane member,
    /// then serves the site from here too.
    async fn join(
        &self,
        agent: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
    ) -> anyhow::Result<ExitCode> {
        tokio::pin!(agent);
        let disk = self
            .args
            .disk
            .clone()
            .unwrap_or_else(|| self.args.data_dir.join("disk.img"));
        loop {
            tokio::select! {
                ended = &mut agent => return ended,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            let applied = crate::agent::applied_state::AppliedState::load(&disk);
            if applied
                .membership()
                .is_some_and(|m| m.role == events::node::NodeRole::ControlPlane)
            {
                break;
            }
        }
        println!(
            "node {}: now a control-plane member: a server of site {} runs on this machine too",
            self.node, self.image.site
        );
        self.serve_beside(agent, false).await
    }

    /// Starts the site's services here (a member of its NATS cluster; with a witness when `witness`), says so on the
    /// LAN once they accept connections, and runs `agent` beside them; returns when both stopped.
    async fn serve_beside(
        &self,
        agent: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
        witness: bool,
    ) -> anyhow::Result<ExitCode> {
        let routes = SiteRoutes::new(self.site_dir, self.image.route_port);
        let known = routes.known(&self.discovery.heard(), self.address);
        routes.remember(&known).context("remembering the site's routes")?;
        let remembering = actix_rt::spawn(remember_routes(
            SiteRoutes::new(self.site_dir, self.image.route_port),
            self.discovery.clone(),
            self.address,
        ));
        let site_args = site_args(self.image, self.site_dir, self.node, self.address, &known, witness)?;
        let site = actix_rt::spawn(crate::site::run(site_args));
        let local = SocketAddr::from(([127, 0, 0, 1], self.image.nats_port));
        let deadline = Instant::now() + SITE_START_TIMEOUT;
        while tokio::net::TcpStream::connect(local).await.is_err() {
            if site.is_finished() {
                remembering.abort();
                return match site.await {
                    Ok(Ok(code)) => Ok(code),
                    Ok(Err(e)) => Err(e.context("the site's services did not start")),
                    Err(e) => anyhow::bail!("the site's services stopped: {e}"),
                };
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the site's NATS did not accept connections on {local} within {} s",
                SITE_START_TIMEOUT.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mut site = site;
        tokio::pin!(agent);
        if witness {
            // The machine that bootstraps joins before any other (the others wait while it is bootstrapping): the
            // site's first control-plane node is the machine its NATS started on.
            let disk = self
                .args
                .disk
                .clone()
                .unwrap_or_else(|| self.args.data_dir.join("disk.img"));
            let deadline = Instant::now() + SITE_START_TIMEOUT;
            while !crate::agent::node_identity::NodeIdentity::joined_beside(&disk) && Instant::now() < deadline {
                tokio::select! {
                    ended = &mut agent => return ended,
                    ended = &mut site => {
                        return ended.map_err(|e| anyhow::anyhow!("the site's services stopped: {e}"))?;
                    }
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
        }
        self.discovery
            .say(Some(MachineIntent::Serving {
                nats_port: self.image.nats_port,
            }))
            .await;
        self.serving.set(true);
        // A signal stops both; the site's services ending on their own end the machine's process too (a supervisor
        // restarts it), rather than leaving an agent with no site to talk to.
        let code = tokio::select! {
            site_ended = &mut site => {
                site_ended.map_err(|e| anyhow::anyhow!("the site's services stopped: {e}"))?
            }
            agent_ended = &mut agent => {
                let site_code = site.await.map_err(|e| anyhow::anyhow!("the site's services stopped: {e}"))??;
                let agent_code = agent_ended?;
                Ok(if site_code == ExitCode::SUCCESS { agent_code } else { site_code })
            }
        };
        remembering.abort();
        code
    }
}

/// Remembers the machines heard serving, every second, for the next start of this machine's server.
async fn remember_routes(routes: SiteRoutes, heard: Rc<LanDiscovery>, address: std::net::IpAddr) {
    let mut remembered = Vec::new();
    loop {
        let known = routes.known(&heard.heard(), address);
        if known != remembered {
            match routes.remember(&known) {
                Ok(()) => remembered = known,
                Err(e) => tracing::warn!(error = %e, "the site's routes not remembered"),
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `edgefleet site` as the image says, listening on every address of the machine, a member of the site's NATS
/// cluster routed to `routes` (with a witness beside it when `witness`).
fn site_args(
    image: &SiteImage,
    site_dir: &std::path::Path,
    node: &Token,
    address: std::net::IpAddr,
    routes: &[String],
    witness: bool,
) -> anyhow::Result<SiteArgs> {
    let mut argv: Vec<OsString> = vec!["site".into(), "--bundle".into(), image.bundle.clone().into_os_string()];
    argv.extend(["--listen".into(), format!("0.0.0.0:{}", image.nats_port).into()]);
    argv.extend(["--data-dir".into(), site_dir.as_os_str().to_owned()]);
    argv.extend(["--join-token".into(), image.join_token.clone().into_os_string()]);
    // One process, one log capture: the agent ships the machine's lines, the site's among them.
    argv.push("--logs-shipped-by-agent".into());
    argv.extend(["--cluster".into(), image.cluster.to_string().into()]);
    argv.extend(["--timezone".into(), image.timezone.clone().into()]);
    if let Some(profile) = &image.profile {
        argv.extend(["--cluster-profile".into(), profile.to_string().into()]);
    }
    argv.extend(["--cluster-port".into(), image.route_port.to_string().into()]);
    argv.extend(["--server-name".into(), node.to_string().into()]);
    argv.extend(["--route-address".into(), address.to_string().into()]);
    for route in routes {
        argv.extend(["--route".into(), route.into()]);
    }
    if witness {
        argv.push("--witness".into());
    }
    if image.k3s_binary.is_some() {
        argv.extend(["--runtime".into(), "k3s".into()]);
    }
    parse_args::<SiteArgs>(argv).context("the site's settings from the site image")
}

/// `edgefleet agent` for this machine, talking to the site at `urls` and checking its certificate for the site's
/// name.
fn agent_args(
    args: &NodeArgs,
    image: &SiteImage,
    node: &Token,
    address: std::net::IpAddr,
    urls: &str,
) -> anyhow::Result<AgentArgs> {
    let bundle = fleet_trust::SiteBundlePaths::new(&image.bundle);
    let disk = args.disk.clone().unwrap_or_else(|| args.data_dir.join("disk.img"));
    let mut argv: Vec<OsString> = vec!["agent".into(), "--site-nats".into(), urls.into()];
    argv.extend(["--node-id".into(), node.to_string().into()]);
    argv.extend(["--disk".into(), disk.into_os_string()]);
    argv.extend(["--join-token".into(), image.join_token.clone().into_os_string()]);
    argv.extend(["--ca".into(), bundle.site_ca().into_os_string()]);
    argv.extend([
        "--tls-server-name".into(),
        fleet_trust::site_server_name(&image.site).into(),
    ]);
    argv.extend(["--address".into(), address.to_string().into()]);
    if let Some(binary) = &image.k3s_binary {
        argv.extend(["--k3s-binary".into(), binary.clone().into_os_string()]);
    }
    argv.extend(args.agent_args.iter().map(OsString::from));
    parse_args::<AgentArgs>(argv).context("the agent's settings")
}

/// Parses `argv` (its first element the command's name) as `A`, with `A`'s defaults and environment variables.
fn parse_args<A: Args + FromArgMatches>(argv: Vec<OsString>) -> anyhow::Result<A> {
    let command = A::augment_args(clap::Command::new("edgefleet").no_binary_name(false));
    let matches = command.try_get_matches_from(argv)?;
    Ok(A::from_arg_matches(&matches)?)
}

/// The machine's id (`/etc/machine-id`), the node id when none is given.
fn machine_id() -> anyhow::Result<Token> {
    let id = std::fs::read_to_string("/etc/machine-id").context("reading /etc/machine-id (or pass --node-id)")?;
    Token::new(id.trim().to_owned()).context("/etc/machine-id is not a usable node id (pass --node-id)")
}
