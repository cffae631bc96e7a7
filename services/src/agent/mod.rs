//! `edgefleet agent`: the node agent. Creates the node's disk image if missing, joins its site (exchanging the
//! site's join token for the node's own identity, kept beside the disk), registers the node with its hardware
//! inventory, heartbeats, and applies the membership and OS the site controller assigns (and, on a site whose runtime
//! is k3s, renders and runs k3s: `machine_k3s`). It talks only to its
//! site's nats-server, so it works with the hub unreachable. When the site revokes its identity (a reset), it
//! joins again with a new one.

pub(crate) mod applied_state;
mod image_reader;
mod log_sender;
mod machine_k3s;
pub(crate) mod node_identity;
mod os_apply;
mod pinned_server_name;
mod site_session;
mod telemetry_queue;
mod telemetry_sender;

use crate::agent_protocol::{heartbeat_subject, register_subject, AgentReply, HeartbeatRequest, RegisterRequest};
use crate::cli::AgentArgs;
use anyhow::Context;
use applied_state::AppliedState;
use events::node::{Disk, Inventory, Nic};
use node_agent::{ensure_disk_image, read_inventory, DiskLayout, InventoryOverrides};
use node_identity::NodeIdentity;
use site_session::{IdentityRefused, NodeSession, SiteServer};
use std::process::ExitCode;
use std::time::Duration;

/// Runs the agent until SIGTERM or Ctrl-C.
pub async fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let mut signals = crate::shutdown::ShutdownSignals::listen()?;
    let node_id = events::Token::new(args.node_id.clone()).context("--node-id")?;
    // One agent per disk: a second one on the same image would race the first through every update.
    let _lock = crate::data_dir_lock::DataDirLock::acquire_file(&lock_path(&args.disk))?;
    let disk = ensure_disk_image(&args.disk, &DiskLayout::default())
        .with_context(|| format!("preparing the disk image {}", args.disk.display()))?;
    let inventory = inventory(&args)?;
    let server = SiteServer {
        url: args.site_nats.clone(),
        ca: args.ca.clone(),
        tls_name: args.tls_server_name.clone(),
    };
    let identity_path = args
        .identity
        .clone()
        .unwrap_or_else(|| NodeIdentity::path_beside(&args.disk));
    let mut node = NodeWork {
        id: node_id.clone(),
        applied: AppliedState::load(&args.disk),
        os: os_apply::OsState::load(&args.disk),
        inventory,
        args: &args,
        reset_done: None,
        k3s: machine_k3s::MachineK3s::new(
            node_id.clone(),
            args.k3s_binary.clone(),
            args.k3s_root.clone(),
            args.address,
            args.join_token.clone(),
            &args.disk,
        ),
    };
    os_apply::prepare(&args.disk, &mut node.os).context("preparing the boot slots")?;
    let mut logs = crate::process_logs::captured().map(crate::log_shipper::LogShipper::new);
    let telemetry =
        telemetry_sender::TelemetrySender::new(Duration::from_secs(args.telemetry_interval_s), args.disk.clone())
            .context("the telemetry queue beside the disk")?;
    println!(
        "agent {node_id}: disk {} ({} partitions), {} CPUs, {} MiB",
        disk.path().display(),
        disk.partitions().len(),
        node.inventory.cpu_count,
        node.inventory.memory_bytes >> 20
    );
    let work = async {
        loop {
            let identity = match obtain_identity(&server, &args, &node_id, &identity_path).await {
                Ok(identity) => identity,
                Err(e) => {
                    eprintln!("agent {node_id}: {e:#}; retrying in {} s", RETRY.as_secs());
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            let (session, site) = match server.connect_as(&node_id, &identity).await {
                Ok(connected) => connected,
                Err(e) if e.is::<IdentityRefused>() => {
                    if refused_persistently(&server, &node_id, &identity).await {
                        forget(&node_id, identity);
                    }
                    continue;
                }
                Err(e) => {
                    tracing::debug!(node = %node_id, error = %e, "site unreachable; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            println!("agent {node_id}: connected to site {site} as {}", identity.public_key());
            tokio::select! {
                () = node.serve(&server, &identity, &session, &site) => {}
                () = telemetry.send_while_connected(&session.client, &site, node_id.as_str()) => {}
                () = log_sender::run(logs.as_mut(), &session.client, &site, node_id.as_str()) => {}
            }
            if refused_persistently(&server, &node_id, &identity).await {
                forget(&node_id, identity);
            }
        }
    };
    tokio::select! {
        _ = work => {}
        () = telemetry.sample_forever() => {}
        _ = signals.wait() => {}
    }
    node.k3s.stop().await;
    println!("agent {node_id} stopped");
    Ok(ExitCode::SUCCESS)
}

/// Pause before trying again to join.
const RETRY: Duration = Duration::from_secs(3);
/// Refusals of the node's identity in a row, a second apart, before the agent takes it as revoked: a server
/// reloading its users (another node joining) refuses connections for a moment, and a server of a clustered site
/// learns a new identity only when its projection shows it (seen lagging ~10 s while the site's streams moved).
const REFUSALS_MEANING_REVOKED: u32 = 10;

/// True if the site refuses `identity` on several attempts in a row (revoked), false as soon as it accepts it.
async fn refused_persistently(server: &SiteServer, node: &events::Token, identity: &NodeIdentity) -> bool {
    for attempt in 1..=REFUSALS_MEANING_REVOKED {
        match server.connect_as(node, identity).await {
            Ok(_) => return false,
            Err(e) if e.is::<IdentityRefused>() => {
                tracing::debug!(%node, attempt, "the site refused the node's identity");
            }
            Err(_) => return false, // unreachable, not refused: keep the identity
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    true
}
/// Failed requests in a row after which the agent asks the server whether it still accepts the node's identity.
const FAILURES_BEFORE_IDENTITY_CHECK: u32 = 3;

/// The node's identity, accepted by the site: the one kept beside its disk, or a new one, kept first and then
/// exchanged for the join token (asked again with the same key until the site answers).
async fn obtain_identity(
    server: &SiteServer,
    args: &AgentArgs,
    node: &events::Token,
    path: &std::path::Path,
) -> anyhow::Result<NodeIdentity> {
    let identity = match NodeIdentity::load(path)? {
        Some(identity) => identity,
        None => {
            let identity = NodeIdentity::generate(path);
            identity.save()?;
            identity
        }
    };
    if identity.joined() {
        return Ok(identity);
    }
    let token_file = args.join_token.as_ref().context(
        "the node has no identity yet: give the site's join token file with --join-token FILE (or EDGEFLEET_JOIN_TOKEN)",
    )?;
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("reading the join token {}", token_file.display()))?;
    let site = server.join(token.trim(), node, &identity).await?;
    identity.mark_joined()?;
    println!(
        "agent {node}: joined site {site} with identity {}",
        identity.public_key()
    );
    Ok(identity)
}

fn forget(node: &events::Token, identity: NodeIdentity) {
    println!(
        "agent {node}: the site no longer accepts identity {}; joining again",
        identity.public_key()
    );
    if let Err(e) = identity.forget() {
        eprintln!("agent {node}: {e:#}");
    }
}

/// What the agent keeps about its node while it runs.
struct NodeWork<'a> {
    id: events::Token,
    applied: AppliedState,
    os: os_apply::OsState,
    inventory: Inventory,
    args: &'a AgentArgs,
    /// The reset this agent carried out, confirmed in every heartbeat until the site completes it.
    reset_done: Option<u64>,
    /// The machine's k3s, when the site's runtime is k3s.
    k3s: machine_k3s::MachineK3s,
}

impl NodeWork<'_> {
    /// Registers, heartbeats and applies what the site says, until the site revokes the node's identity.
    async fn serve(&mut self, server: &SiteServer, identity: &NodeIdentity, session: &NodeSession, site: &str) {
        let (client, node_id, args) = (&session.client, self.id.clone(), self.args);
        let js = async_nats::jetstream::new(client.clone());
        let mut registered = false;
        let mut failures = 0u32;
        let mut tick = tokio::time::interval(Duration::from_secs(args.heartbeat_s.max(1)));
        loop {
            tick.tick().await;
            if session.revoked() {
                return;
            }
            let reply = if registered {
                let beat = HeartbeatRequest {
                    node_id: node_id.clone(),
                    applied: self.applied.membership().cloned(),
                    os: Some(self.os.report(&args.disk)),
                    reset_done: self.reset_done,
                    address: self.k3s.address(),
                    runtime: Some(self.k3s.report()),
                };
                request(client, heartbeat_subject(site, node_id.as_str()), &beat).await
            } else {
                let register = RegisterRequest {
                    node_id: node_id.clone(),
                    inventory: self.inventory.clone(),
                };
                request(client, register_subject(site, node_id.as_str()), &register).await
            };
            match reply {
                Ok(reply) if !reply.known => registered = false,
                Ok(reply) => {
                    failures = 0;
                    if !registered {
                        let lifecycle = reply.lifecycle.map_or("unknown", |l| l.as_str());
                        println!("agent {node_id}: registered at {site} ({lifecycle})");
                        registered = true;
                        tick.reset_immediately();
                    }
                    self.follow(&js, &reply, &mut tick).await;
                    if let Ok(site) = events::Token::new(site) {
                        if self.k3s.follow(&site, reply.runtime.as_ref()).await {
                            tick.reset_immediately();
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(node = %node_id, error = %e, "site controller unreachable; retrying");
                    failures += 1;
                    if failures >= FAILURES_BEFORE_IDENTITY_CHECK {
                        failures = 0;
                        if refused_persistently(server, &node_id, identity).await {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Applies what the site's reply asks for: an OS image, a membership.
    async fn follow(
        &mut self,
        js: &async_nats::jetstream::Context,
        reply: &AgentReply,
        tick: &mut tokio::time::Interval,
    ) {
        let (node_id, args) = (&self.id, self.args);
        if let Some(error) = &reply.error {
            tracing::warn!(node = %node_id, %error, "site controller reports a problem");
        }
        if let Some(target) = reply.os_target.as_ref().filter(|t| self.os.wants(t)) {
            os_apply::apply(js, &args.disk, args.image_key.as_deref(), &mut self.os, target).await;
            tick.reset_immediately(); // tell the site how it went without waiting a beat
        }
        if let Some(reset) = reply.reset {
            // A reset: wipe the membership (whatever the reply still names: the site is taking the node out), say
            // so, and wait for the site to revoke the identity; the agent then joins again with a new one.
            if self.reset_done != Some(reset) {
                match self.applied.apply(None) {
                    Ok(()) => {
                        println!("agent {node_id}: reset {reset}: membership wiped; confirming to the site");
                        self.reset_done = Some(reset);
                        tick.reset_immediately();
                    }
                    Err(e) => tracing::error!(node = %node_id, error = %e, "could not wipe the applied membership"),
                }
            }
            return;
        }
        if reply.membership.as_ref() != self.applied.membership() {
            match self.applied.apply(reply.membership.clone()) {
                Ok(()) => {
                    println!("agent {node_id}: applied membership {}", self.applied.describe());
                    tick.reset_immediately();
                }
                Err(e) => tracing::error!(node = %node_id, error = %e, "could not record the applied membership"),
            }
        }
    }
}

/// The lock file beside the disk image.
fn lock_path(disk: &std::path::Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.lock", disk.display()))
}

async fn request<T: serde::Serialize>(
    client: &async_nats::Client,
    subject: String,
    body: &T,
) -> anyhow::Result<AgentReply> {
    let payload = serde_json::to_vec(body)?;
    let reply = tokio::time::timeout(Duration::from_secs(5), client.request(subject, payload.into())).await??;
    Ok(serde_json::from_slice(&reply.payload)?)
}

/// The machine's inventory with the simulated-node overrides applied.
fn inventory(args: &AgentArgs) -> anyhow::Result<Inventory> {
    let read = read_inventory(std::path::Path::new("/")).context("reading the hardware inventory")?;
    let pairs = |items: &[String], flag: &str| -> anyhow::Result<Vec<(String, String)>> {
        items
            .iter()
            .map(|s| {
                s.split_once('=')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .with_context(|| format!("--{flag} {s:?} must be NAME=VALUE"))
            })
            .collect()
    };
    let disks = pairs(&args.disk_devices, "disk-device")?
        .into_iter()
        .map(|(name, size)| {
            Ok(Disk {
                size_bytes: size.parse().with_context(|| format!("disk size {size:?}"))?,
                name,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let nics = pairs(&args.nics, "nic")?
        .into_iter()
        .map(|(name, mac)| Nic { name, mac })
        .collect::<Vec<_>>();
    let overrides = InventoryOverrides {
        machine_id: args.machine_id.clone(),
        cpu_count: args.cpus,
        memory_bytes: args.memory_mib.map(|m| m << 20),
        disks: (!disks.is_empty()).then_some(disks),
        nics: (!nics.is_empty()).then_some(nics),
    };
    Ok(overrides.apply(read))
}
