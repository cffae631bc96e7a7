//! `edgefleet node --site-image FILE --data-dir DIR`: the one process every machine of a site runs (issue 13). It
//! always runs the node agent; it runs the site's services (the site's NATS and controller) on the machine that
//! serves the site. Which machine that is, is settled on the LAN with no address configured: machines announce
//! themselves by broadcast ([`lan_discovery`]) and each decides with the pure `actors::plan::plan_discovery` —
//! join a site that is served, else after the settle time the lowest id among the machines seeking bootstraps it.
//!
//! Not built yet: the site growing to three NATS servers and moving its controller under a lease when a third
//! eligible machine appears, and taking over when the serving machine is lost (the agents of the others keep
//! retrying the address they joined).

mod lan_discovery;
pub mod site_image_file;

use crate::cli::{AgentArgs, NodeArgs, SiteArgs};
use actors::plan::{plan_discovery, DiscoveryInputs, DiscoveryStep, MachineIntent};
use anyhow::Context;
use clap::{Args, FromArgMatches};
use events::Token;
use lan_discovery::LanDiscovery;
use site_image_file::SiteImage;
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
    let code = match settle(&discovery, &node, served_before, image.settle).await {
        Acting::Serve => {
            discovery.say(Some(MachineIntent::Bootstrapping)).await;
            println!("node {node}: serving site {} from this machine", image.site);
            serve_and_run(&args, &image, &node, &site_dir, &discovery).await
        }
        Acting::Join(servers) => {
            discovery.say(None).await;
            announcing.abort();
            let urls = servers
                .iter()
                .map(|s| format!("tls://{s}"))
                .collect::<Vec<_>>()
                .join(",");
            println!("node {node}: joining site {} at {urls}", image.site);
            crate::agent::run(agent_args(&args, &image, &node, &urls)?).await
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

/// Starts the site's services here, says so on the LAN once they accept connections, and runs the agent beside
/// them; returns when both stopped.
async fn serve_and_run(
    args: &NodeArgs,
    image: &SiteImage,
    node: &Token,
    site_dir: &std::path::Path,
    discovery: &LanDiscovery,
) -> anyhow::Result<ExitCode> {
    let site = actix_rt::spawn(crate::site::run(site_args(image, site_dir)?));
    let local = SocketAddr::from(([127, 0, 0, 1], image.nats_port));
    let deadline = Instant::now() + SITE_START_TIMEOUT;
    while tokio::net::TcpStream::connect(local).await.is_err() {
        if site.is_finished() {
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
    discovery
        .say(Some(MachineIntent::Serving {
            nats_port: image.nats_port,
        }))
        .await;
    let agent = crate::agent::run(agent_args(args, image, node, &format!("tls://{local}"))?);
    let mut site = site;
    tokio::pin!(agent);
    // A signal stops both; the site's services ending on their own end the machine's process too (a supervisor
    // restarts it), rather than leaving an agent with no site to talk to.
    tokio::select! {
        site_ended = &mut site => {
            let code = site_ended.map_err(|e| anyhow::anyhow!("the site's services stopped: {e}"))??;
            Ok(code)
        }
        agent_ended = &mut agent => {
            let site_code = site.await.map_err(|e| anyhow::anyhow!("the site's services stopped: {e}"))??;
            let agent_code = agent_ended?;
            Ok(if site_code == ExitCode::SUCCESS { agent_code } else { site_code })
        }
    }
}

/// `edgefleet site` as the image says, listening on every address of the machine.
fn site_args(image: &SiteImage, site_dir: &std::path::Path) -> anyhow::Result<SiteArgs> {
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
    parse_args::<SiteArgs>(argv).context("the site's settings from the site image")
}

/// `edgefleet agent` for this machine, talking to the site at `urls` and checking its certificate for the site's
/// name.
fn agent_args(args: &NodeArgs, image: &SiteImage, node: &Token, urls: &str) -> anyhow::Result<AgentArgs> {
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
