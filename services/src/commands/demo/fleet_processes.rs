//! The demo's fleet as real processes: this same binary run as `edgefleet hub`, `edgefleet site` and
//! `edgefleet agent`, each in its own process group with its log in the demo directory, stopped with SIGTERM (so
//! each stops its own nats-server) when the demo ends.

use anyhow::Context;
use nats_process::{free_ports, LinkProxy};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One child process.
pub struct FleetProcess {
    name: String,
    child: Child,
}

impl FleetProcess {
    /// Runs `edgefleet ARGS`, output to `dir/<name>.log`.
    pub fn spawn(name: &str, dir: &Path, args: &[String]) -> anyhow::Result<Self> {
        let log = std::fs::File::create(dir.join(format!("{name}.log")))?;
        let child = Command::new(std::env::current_exe().context("locating the edgefleet binary")?)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Self {
            name: name.to_string(),
            child,
        })
    }

    /// SIGTERM, then wait (each process stops its own nats-server on SIGTERM).
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
            if self.child.wait().is_err() {
                tracing::warn!(process = %self.name, "did not stop cleanly");
            }
        }
    }
}

impl Drop for FleetProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The hub process and its addresses.
pub struct HubProcess {
    /// The process.
    pub process: FleetProcess,
    /// Client URL.
    pub url: String,
    /// Leafnode port.
    pub leaf_port: u16,
}

/// Starts `edgefleet hub` with data in `dir/hub`.
pub fn start_hub(dir: &Path) -> anyhow::Result<HubProcess> {
    let [client_port, leaf_port] = free_ports::<2>();
    let args = vec![
        "hub".into(),
        "--data-dir".into(),
        dir.join("hub").display().to_string(),
        "--listen".into(),
        format!("127.0.0.1:{client_port}"),
        "--leaf-listen".into(),
        format!("127.0.0.1:{leaf_port}"),
    ];
    Ok(HubProcess {
        process: FleetProcess::spawn("hub", dir, &args)?,
        url: format!("nats://127.0.0.1:{client_port}"),
        leaf_port,
    })
}

impl HubProcess {
    /// Stops the hub (and its nats-server).
    pub fn stop(mut self) {
        self.process.stop();
    }
}

/// A site process, its link to the hub (a proxy the demo can cut) and its agents.
pub struct SiteProcess {
    /// Site id.
    pub id: String,
    /// The site controller process.
    pub process: FleetProcess,
    /// The site's link to the hub.
    pub link: LinkProxy,
    /// Its node agents.
    pub agents: Vec<FleetProcess>,
}

impl SiteProcess {
    /// Stops the agents, then the site (and its nats-server).
    pub fn stop(mut self) {
        for agent in &mut self.agents {
            agent.stop();
        }
        self.process.stop();
    }
}

/// Starts `edgefleet site` linked to the hub through a cuttable proxy, and `nodes` agents.
pub async fn start_site(dir: &Path, hub: &HubProcess, id: &str, nodes: u32) -> anyhow::Result<SiteProcess> {
    let link = LinkProxy::start(format!("127.0.0.1:{}", hub.leaf_port).parse()?).await?;
    let [client_port] = free_ports::<1>();
    let url = format!("nats://127.0.0.1:{client_port}");
    let args = vec![
        "site".into(),
        "--site-id".into(),
        id.into(),
        "--hub-leaf".into(),
        link.leaf_url(),
        "--listen".into(),
        format!("127.0.0.1:{client_port}"),
        "--data-dir".into(),
        dir.join(id).display().to_string(),
        "--silent-after-s".into(),
        "5".into(),
    ];
    let process = FleetProcess::spawn(&format!("site-{id}"), dir, &args)?;
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
            "--machine-id".into(),
            format!("{id}-n{n}"),
            "--cpus".into(),
            "8".into(),
            "--memory-mib".into(),
            "32768".into(),
        ];
        agents.push(FleetProcess::spawn(&format!("agent-{id}-n{n}"), dir, &args)?);
    }
    Ok(SiteProcess {
        id: id.to_string(),
        process,
        link,
        agents,
    })
}
