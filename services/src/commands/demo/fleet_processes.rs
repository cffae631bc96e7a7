//! The demo's fleet as real processes: this same binary run as `edgefleet hub`, `edgefleet site` and
//! `edgefleet agent`, each a [`ChildProcess`] (own process group, log in the demo directory, tied to the demo's
//! life), stopped with SIGTERM — each stops its own nats-server — when the demo ends, whatever ends it.
//!
//! Secured as a real fleet is: the demo talks to the hub as its admin (`hub/admin.creds`, TLS from `hub/ca.pem`),
//! adds each site through the API and starts it from its bundle, and each agent joins its site with the site's join
//! token.

use crate::api_types::fleet_access::{SiteBundleView, SiteIssueRequest};
use crate::commands::api_client::HubApi;
use crate::hub_connection::HubAddress;
use anyhow::Context;
use nats_process::{free_ports, ChildProcess, LinkProxy};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Runs `edgefleet ARGS` as `name`, output to `dir/<name>.log`.
pub(super) fn spawn(name: &str, dir: &Path, args: &[String]) -> anyhow::Result<ChildProcess> {
    let program = std::env::current_exe().context("locating the edgefleet binary")?;
    let env = [("RUST_LOG", "info".to_string())];
    ChildProcess::spawn(name, &program, args, &env, &dir.join(format!("{name}.log")))
        .with_context(|| format!("starting {name}"))
}

/// The hub process and its addresses.
pub struct HubProcess {
    /// The process.
    pub process: ChildProcess,
    /// Client URL, the admin's credentials and the CA.
    pub address: HubAddress,
    /// Leafnode port.
    pub leaf_port: u16,
}

/// Where the hub's telemetry goes and how its `/metrics` is scraped.
pub struct HubTelemetry {
    /// The Prometheus remote-write endpoint the hub delivers node metrics to.
    pub remote_write: url::Url,
    /// Where the hub serves `/metrics`.
    pub metrics_port: u16,
    /// The bearer token file scrapes present.
    pub metrics_token_file: PathBuf,
    /// Where the hub serves its web dashboard (loopback).
    pub dashboard_port: u16,
}

/// A bearer token for the hub's `/metrics`, written owner-only to `dir/metrics.token`.
pub fn metrics_token_file(dir: &Path) -> anyhow::Result<PathBuf> {
    use std::io::Read;
    let path = dir.join("metrics.token");
    let mut secret = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut secret))
        .context("reading /dev/urandom for the metrics token")?;
    crate::owner_only_file::create_owner_only(&path, &data_encoding::HEXLOWER.encode(&secret))?;
    Ok(path)
}

/// Starts `edgefleet hub` with data in `dir/hub`, delivering node metrics, serving `/metrics` and its dashboard as
/// `telemetry` says.
pub fn start_hub(dir: &Path, telemetry: &HubTelemetry) -> anyhow::Result<HubProcess> {
    start_hub_with(
        dir,
        &[
            "--remote-write".into(),
            telemetry.remote_write.to_string(),
            "--metrics-listen".into(),
            format!("127.0.0.1:{}", telemetry.metrics_port),
            "--metrics-token-file".into(),
            telemetry.metrics_token_file.display().to_string(),
            "--http-listen".into(),
            format!("127.0.0.1:{}", telemetry.dashboard_port),
        ],
    )
}

/// Starts `edgefleet hub` with data in `dir/hub`, clients and leaves on loopback, and `more` arguments.
pub fn start_hub_with(dir: &Path, more: &[String]) -> anyhow::Result<HubProcess> {
    let [client_port, leaf_port] = free_ports::<2>();
    let data_dir = dir.join("hub");
    let mut args = vec![
        "hub".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{client_port}"),
        "--leaf-listen".into(),
        format!("127.0.0.1:{leaf_port}"),
    ];
    args.extend(more.iter().cloned());
    Ok(HubProcess {
        process: spawn("hub", dir, &args)?,
        address: HubAddress {
            url: Some(format!("nats://127.0.0.1:{client_port}")),
            creds: Some(data_dir.join("admin.creds")),
            ca: Some(data_dir.join("ca.pem")),
        },
        leaf_port,
    })
}

/// A site process, its link to the hub (a proxy the demo can cut) and its agents.
pub struct SiteProcess {
    /// Site id.
    pub id: String,
    /// The site process.
    pub process: ChildProcess,
    /// The site's link to the hub.
    pub link: LinkProxy,
    /// Its node agents.
    pub agents: Vec<ChildProcess>,
    /// The site's NATS (TLS, for its nodes and local readers).
    pub url: String,
    /// Its bundle (the site CA, the local reader's key).
    pub bundle_dir: PathBuf,
}

impl SiteProcess {
    /// Stops the agents, then the site (and its nats-server).
    pub fn stop(&mut self) {
        for agent in &mut self.agents {
            agent.stop();
        }
        self.process.stop();
    }
}

/// Adds site `id` to the fleet through the API, starts `edgefleet site` from its bundle, linked to the hub through
/// a cuttable proxy, and `nodes` agents that join with the site's join token.
pub async fn start_site(
    dir: &Path,
    hub: &HubProcess,
    api: &HubApi,
    id: &str,
    nodes: u32,
) -> anyhow::Result<SiteProcess> {
    let link = LinkProxy::start(format!("127.0.0.1:{}", hub.leaf_port).parse()?).await?;
    let request = SiteIssueRequest {
        id: events::Token::new(id).context("site id")?,
        tls_names: vec![],
    };
    let bundle: SiteBundleView = api.call("sites.add", &request).await?;
    let bundle_dir = dir.join(format!("{id}-bundle"));
    crate::commands::resources::write_site_bundle(&bundle_dir, &bundle, &link.leaf_url())?;
    let [client_port] = free_ports::<1>();
    let url = format!("nats://127.0.0.1:{client_port}");
    let data_dir = dir.join(id);
    let args = vec![
        "site".into(),
        "--bundle".into(),
        bundle_dir.display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{client_port}"),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--silent-after-s".into(),
        "5".into(),
    ];
    let process = spawn(&format!("site-{id}"), dir, &args)?;
    // The site makes its join token and the CA copy for its agents on its first start.
    let (join_token, ca) = (data_dir.join("join.token"), data_dir.join("ca.pem"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(join_token.exists() && ca.exists()) {
        anyhow::ensure!(Instant::now() < deadline, "site {id} made no join token within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut agents = Vec::new();
    for n in 1..=nodes {
        let disk: PathBuf = dir.join(format!("{id}-n{n}.img"));
        let args = vec![
            "agent".into(),
            "--site-nats".into(),
            url.clone(),
            "--node-id".into(),
            format!("n{n}"),
            "--disk".into(),
            disk.display().to_string(),
            "--heartbeat-s".into(),
            "1".into(),
            "--telemetry-interval-s".into(),
            "5".into(),
            "--machine-id".into(),
            format!("{id}-n{n}"),
            "--cpus".into(),
            "8".into(),
            "--memory-mib".into(),
            "32768".into(),
            "--join-token".into(),
            join_token.display().to_string(),
            "--ca".into(),
            ca.display().to_string(),
        ];
        agents.push(spawn(&format!("agent-{id}-n{n}"), dir, &args)?);
    }
    Ok(SiteProcess {
        id: id.to_string(),
        process,
        link,
        agents,
        url,
        bundle_dir,
    })
}

/// Everything the demo started, so it can be stopped from wherever the demo ends.
#[derive(Default)]
pub struct Fleet {
    /// The Prometheus the hub delivers node metrics to and that scrapes the hub, once started.
    pub prometheus: Option<telemetry::PrometheusServer>,
    /// The hub, once started.
    pub hub: Option<HubProcess>,
    /// The sites started so far.
    pub sites: Vec<SiteProcess>,
    /// The zero-touch story's LAN and machines.
    pub zero_touch: super::zero_touch::ZeroTouchFleet,
}

impl Fleet {
    /// Stops every site (agents first) and zero-touch machine, then the hub, then Prometheus.
    pub fn stop(&mut self) {
        for site in &mut self.sites {
            site.stop();
        }
        self.zero_touch.stop();
        if let Some(hub) = &mut self.hub {
            hub.process.stop();
        }
        self.prometheus = None; // killed with its process group when dropped
    }
}
